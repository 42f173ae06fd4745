/** conda-gateway: conda's connection gateway for Node.js. Public API only. */
export * from './errors/index.js';
export { SafeUrl, maskUrl } from './redact/safe-url.js';
export { redactText } from './redact/redact-text.js';
export * from './config/index.js';
export * from './session/index.js';
export * from './download/index.js';
export * from './repodata/index.js';
export { registerAdapter, supportedSchemes } from './adapters/registry.js';
export type { Adapter, AdapterDeps, AdapterFactory } from './adapters/types.js';
export type { AuthHandler, AuthHandlerSpec, AuthContext, Credentials, CredentialSource } from './auth/types.js';
export { packageVersion, userAgent } from './version.js';
export * from './packages/index.js';
