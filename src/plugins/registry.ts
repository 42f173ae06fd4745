/**
 * PluginRegistry: holds plugins, normalises names as conda does (lowercased, trimmed),
 * rejects conflicting names, and serves auth handlers and validated, memoised headers.
 */
import { PluginError } from '../errors/classes.js';
import type { AuthHandlerSpec } from '../auth/types.js';
import type { GatewayPlugin, HeaderSpec } from './types.js';
import { validatePluginHeaders } from './validate-headers.js';

function normalize(name: string, what: string): string {
  const out = String(name ?? '').trim().toLowerCase();
  if (!out) throw new PluginError(`Invalid plugin names found for \`${what}\`: an empty name.`);
  return out;
}

const CONFLICT_HINT = "Multiple conda-gateway plugins are registered for the same name. Please make sure that you don't have any incompatible plugins installed.";

export class PluginRegistry {
  readonly #plugins = new Map<string, GatewayPlugin>();
  readonly #authHandlers = new Map<string, { spec: AuthHandlerSpec; plugin: string }>();
  readonly #sessionCache = new Map<string, Readonly<Record<string, string>>>();
  readonly #requestCache = new Map<string, Readonly<Record<string, string>>>();

  constructor(plugins: Iterable<GatewayPlugin> = []) {
    for (const plugin of plugins) this.register(plugin);
  }

  /** Add a plugin; a second plugin or auth handler with a name already taken is a PluginError. */
  register(plugin: GatewayPlugin): this {
    const name = normalize(plugin.name, 'plugins');
    if (this.#plugins.has(name)) {
      throw new PluginError(`Conflicting plugins found for \`plugins\`: ${name}`, { details: { plugin: name }, hint: CONFLICT_HINT });
    }
    const handlers = (plugin.authHandlers ?? []).map((spec) => ({ name: normalize(spec.name, 'auth_handlers'), spec }));
    const names = handlers.map((h) => h.name);
    const clash = names.find((n, i) => this.#authHandlers.has(n) || names.indexOf(n) !== i);
    if (clash) {
      throw new PluginError(`Conflicting plugins found for \`auth_handlers\`: ${clash}`, {
        details: { plugin: name, handler: clash }, hint: CONFLICT_HINT,
      });
    }
    this.#plugins.set(name, plugin);
    for (const h of handlers) this.#authHandlers.set(h.name, { spec: h.spec, plugin: name });
    this.#sessionCache.clear();
    this.#requestCache.clear();
    return this;
  }

  get plugins(): readonly GatewayPlugin[] {
    return [...this.#plugins.values()];
  }

  /** conda's get_auth_handler: the name is lowercased and trimmed; undefined when none has it. */
  getAuthHandler(name: string): AuthHandlerSpec | undefined {
    return this.#authHandlers.get(String(name).trim().toLowerCase())?.spec;
  }

  authHandlerNames(): string[] {
    return [...this.#authHandlers.keys()];
  }

  #collect(hook: 'session_headers' | 'request_headers', pick: (p: GatewayPlugin) => Iterable<HeaderSpec> | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    const owner: Record<string, string> = {};
    for (const [pluginName, plugin] of this.#plugins) {
      const produced = pick(plugin);
      if (!produced) continue;
      const mine: Record<string, string> = {};
      for (const header of produced) {
        const key = normalize(header.name, hook);
        if (owner[key] !== undefined && owner[key] !== pluginName) {
          throw new PluginError(`Conflicting plugins found for \`${hook}\`: ${key}`, {
            details: { plugin: pluginName, header: key }, hint: CONFLICT_HINT,
          });
        }
        mine[key] = String(header.value);
      }
      validatePluginHeaders(mine, pluginName);
      for (const [k, v] of Object.entries(mine)) {
        out[k] = v;
        owner[k] = pluginName;
      }
    }
    return out;
  }

  /** conda_session_headers for a host (netloc, with port), validated, memoised. */
  sessionHeaders(host: string): Readonly<Record<string, string>> {
    let cached = this.#sessionCache.get(host);
    if (!cached) {
      cached = Object.freeze(this.#collect('session_headers', (p) => p.sessionHeaders?.(host)));
      this.#sessionCache.set(host, cached);
    }
    return cached;
  }

  /** conda_request_headers for a host and path, validated, memoised. */
  requestHeaders(host: string, path: string): Readonly<Record<string, string>> {
    const key = `${host}\u0000${path}`;
    let cached = this.#requestCache.get(key);
    if (!cached) {
      cached = Object.freeze(this.#collect('request_headers', (p) => p.requestHeaders?.(host, path)));
      this.#requestCache.set(key, cached);
    }
    return cached;
  }
}
