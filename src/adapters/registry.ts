/**
 * Scheme → adapter, loaded on first use so that heavy clients (FTP, the AWS SDK)
 * cost nothing until a URL of their scheme appears.
 */
import { UnsupportedSchemeError } from '../errors/classes.js';
import { maskUrl } from '../redact/safe-url.js';
import type { Adapter, AdapterDeps, AdapterFactory } from '../core/adapter.js';

type Loader = () => Promise<AdapterFactory>;

const LOADERS: Record<string, Loader> = {
  'http:': async () => (await import('./http/index.js')).createHttpAdapter,
  'https:': async () => (await import('./http/index.js')).createHttpAdapter,
  'file:': async () => (await import('./localfs/index.js')).createLocalFsAdapter,
  'ftp:': async () => (await import('./ftp/index.js')).createFtpAdapter,
  's3:': async () => (await import('./s3/index.js')).createS3Adapter,
  'oci:': async () => (await import('./oci/index.js')).createOciAdapter,
};

/** Schemes with an adapter, e.g. for error messages. */
export function supportedSchemes(): string[] {
  return Object.keys(LOADERS).map((s) => s.replace(/:$/, ''));
}

/** Register (or replace) the loader of an adapter for a URL protocol such as 'ftp:'. */
export function registerAdapter(protocol: string, loader: Loader): void {
  LOADERS[protocol] = loader;
}

/** The adapters of one session: created lazily, closed together. */
export class AdapterSet {
  readonly #deps: AdapterDeps;
  readonly #byFactory = new Map<AdapterFactory, Promise<Adapter>>();

  constructor(deps: AdapterDeps) {
    this.#deps = deps;
  }

  async get(url: URL): Promise<Adapter> {
    const loader = LOADERS[url.protocol];
    if (!loader) {
      throw new UnsupportedSchemeError(
        `No adapter for '${url.protocol}' URLs (${maskUrl(url)}); supported schemes: ${supportedSchemes().join(', ')}.`,
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
