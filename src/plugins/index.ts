/** Plugins: auth handlers and header providers, as conda's plugin hooks. */
export { PluginRegistry } from './registry.js';
export { validatePluginHeaders, FORBIDDEN_HEADERS, FORBIDDEN_METHOD_OVERRIDE_HEADERS, FORBIDDEN_HTTP_METHODS } from './validate-headers.js';
export type { GatewayPlugin, HeaderSpec } from './types.js';
