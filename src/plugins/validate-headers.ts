/**
 * conda's _validate_plugin_headers: plugins may not set headers that could compromise
 * the network stack (Fetch's forbidden request headers, any Proxy-* or Sec-*, and
 * method-override headers carrying CONNECT, TRACE or TRACK).
 */
import { PluginError } from '../errors/classes.js';

export const FORBIDDEN_HEADERS: ReadonlySet<string> = new Set([
  'accept-charset', 'accept-encoding', 'access-control-request-headers', 'access-control-request-method',
  'connection', 'content-length', 'cookie', 'date', 'dnt', 'expect', 'host', 'keep-alive', 'origin', 'referer',
  'set-cookie', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'via',
]);
export const FORBIDDEN_METHOD_OVERRIDE_HEADERS: ReadonlySet<string> = new Set(['x-http-method', 'x-http-method-override', 'x-method-override']);
export const FORBIDDEN_HTTP_METHODS: ReadonlySet<string> = new Set(['connect', 'trace', 'track']);

const SEE = 'See https://developer.mozilla.org/en-US/docs/Glossary/Forbidden_request_header';

/** Throws PluginError (CG_PLUGIN_INVALID) naming the plugin and the header. */
export function validatePluginHeaders(headers: Readonly<Record<string, string>>, plugin: string): void {
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    const where = { details: { plugin, header: key }, hint: `Remove the '${key}' header from plugin '${plugin}'.` };
    if (FORBIDDEN_HEADERS.has(key)) {
      throw new PluginError(`Plugin attempted to set forbidden header '${key}'. This header is not allowed as it could ` +
        `compromise conda's network stack. ${SEE} (plugin '${plugin}')`, where);
    }
    if (key.startsWith('proxy-') || key.startsWith('sec-')) {
      throw new PluginError(`Plugin attempted to set forbidden header '${key}'. Headers starting with 'Proxy-' or 'Sec-' ` +
        `are not allowed as they could compromise conda's network stack. ${SEE} (plugin '${plugin}')`, where);
    }
    if (FORBIDDEN_METHOD_OVERRIDE_HEADERS.has(key) && FORBIDDEN_HTTP_METHODS.has(value.trim().toLowerCase())) {
      throw new PluginError(`Plugin attempted to set header '${key}' with forbidden method '${value}'. This method ` +
        `override is not allowed as it could compromise conda's network stack. ${SEE} (plugin '${plugin}')`, where);
    }
  }
}
