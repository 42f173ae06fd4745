/**
 * Scheme → adapter, loaded on first use so that heavy clients (FTP, the AWS SDK)
 * cost nothing until a URL of their scheme appears. The table is per session
 * (SessionOptions.adapters adds or replaces entries); nothing is shared by the process.
 */
import { UnsupportedSchemeError } from '../errors/classes.js';
import { maskUrl } from '../redact/safe-url.js';
import type { Adapter, AdapterDeps, AdapterFactory, AdapterLoader } from '../core/adapter.js';

/** The built-in adapters by URL protocol (with the colon). */
export const DEFAULT_ADAPTERS: Readonly<Record<string, AdapterLoader>> = Object.freeze({
  'http:': async () => (await import('./http/index.js')).createHttpAdapter,
  'https:': async () => (await import('./http/index.js')).createHttpAdapter,
  'file:': async () => (await import('./localfs/index.js')).createLocalFsAdapter,
  'ftp:': async () => (await import('./ftp/index.js')).createFtpAdapter,
  's3:': async () => (await import('./s3/index.js')).createS3Adapter,
  'oci:': async () => (await import('./oci/index.js')).createOciAdapter,
});

/** The built-in adapters with a session's own added or replacing them. */
export function adapterTable(extra: Readonly<Record<string, AdapterLoader>> = {}): Readonly<Record<string, AdapterLoader>> {
  return { ...DEFAULT_ADAPTERS, ...extra };
}

/** Schemes with an adapter (the built-in ones unless a table is given), e.g. for error messages. */
export function supportedSchemes(loaders: Readonly<Record<string, AdapterLoader>> = DEFAULT_ADAPTERS): string[] {
  return Object.keys(loaders).map((s) => s.replace(/:$/, ''));
}

/** The adapters of one session: created lazily, closed together. */
export class AdapterSet {
  readonly #deps: AdapterDeps;
  readonly #loaders: Readonly<Record<string, AdapterLoader>>;
  readonly #byFactory = new Map<AdapterFactory, Promise<Adapter>>();

  /** `extra` adds adapters for more protocols or replaces built-in ones, for this set only. */
  constructor(deps: AdapterDeps, extra: Readonly<Record<string, AdapterLoader>> = {}) {
    this.#deps = deps;
    this.#loaders = adapterTable(extra);
  }

  /** The schemes served, without the colon. */
  get schemes(): string[] {
    return supportedSchemes(this.#loaders);
  }

  async get(url: URL): Promise<Adapter> {
    const loader = Object.hasOwn(this.#loaders, url.protocol) ? this.#loaders[url.protocol] : undefined;
    if (!loader) {
      throw new UnsupportedSchemeError(
        `No adapter for '${url.protocol}' URLs (${maskUrl(url)}); supported schemes: ${supportedSchemes(this.#loaders).join(', ')}.`,
        { url });
    }
    const factory = await loader();
    let adapter = this.#byFactory.get(factory);
    if (!adapter) {
      adapter = Promise.resolve(factory(this.#deps));
      this.#byFactory.set(factory, adapter);
    }
    return adapter;
  }

  async close(): Promise<void> {
    const adapters = await Promise.allSettled([...this.#byFactory.values()]);
    this.#byFactory.clear();
    await Promise.all(adapters.map((a) => (a.status === 'fulfilled' ? a.value.close().catch(() => undefined) : undefined)));
  }
}
