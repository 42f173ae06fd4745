/**
 * oci:// adapter: a conda channel stored in an OCI registry (ghcr.io/channel-mirrors
 * layout "v0", or the CEP "v1" encoding with `oci_encoding: v1`). A package whose sha256
 * is known (`X-Expected-Sha256`, as rattler sends it) is fetched as a blob by digest with
 * no manifest round trip; otherwise, or when a pull-through cache does not have the blob
 * yet, the tag's manifest names the layer by media type. Whole blobs are verified against
 * their digest while streaming (here, or by download() when the digest is the sha256 it
 * sent and checks itself); Range/If-Range go to the registry untouched.
 */
import { pipeline, type Readable } from 'node:stream';
import { Headers, type Response } from '../../util/undici.js';
import { redactText } from '../../redact/redact-text.js';
import { maskUrl } from '../../redact/safe-url.js';
import { nodeBodyOf, discardBody } from '../../core/response-info.js';
import type { GatewayRequest, RequestContext } from '../../core/types.js';
import { createHttpAdapter } from '../http/index.js';
import { jsonResponse, responseFromNode } from '../response.js';
import type { Adapter, AdapterDeps } from '../../core/adapter.js';
import { ociTarget, sha256Digest, type OciEncoding, type OciTarget } from './address.js';
import { MANIFEST_ACCEPT, pickLayer, readLayers } from './manifest.js';
import { RegistryClient, type RegistryRequest } from './registry-client.js';
import { digestVerifier } from './verify.js';

export { ociTarget, v0Name, v0Tag, v1NameAndTag, MEDIA_TYPES, type OciEncoding, type OciTarget } from './address.js';

/** Request headers passed on to the registry's blob endpoint. */
const BLOB_HEADERS = ['range', 'if-range', 'if-none-match', 'if-modified-since'];
/** Response headers passed back from a blob. */
const KEEP_HEADERS = ['content-length', 'content-range', 'accept-ranges', 'last-modified', 'www-authenticate', 'retry-after'];

export interface OciAdapter extends Adapter {
  readonly client: RegistryClient;
}

function notFound(req: GatewayRequest, why: string): Response {
  return jsonResponse(404, { error: why, url: maskUrl(req.url) }, 'Not Found');
}

export function createOciAdapter(deps: AdapterDeps): OciAdapter {
  const http = createHttpAdapter(deps);
  const client = new RegistryClient(http, deps.settings, deps.log);
  expectRepositories(client, deps.expectedUrls ?? [], deps.settings.ociEncoding);

  function registryRequest(target: OciTarget, req: GatewayRequest, path: string, headers: Headers): RegistryRequest {
    const credentials = req.headers.get('authorization') ?? undefined;
    return {
      registry: target.registry, path, method: req.method, headers, scope: `repository:${target.repository}:pull`,
      signal: req.signal, ...(credentials ? { credentials } : {}),
    };
  }

  /** The layer's digest and size from the tag's manifest, or the registry's answer when there is none. */
  async function resolve(target: OciTarget, req: GatewayRequest, ctx: RequestContext): Promise<{ digest: string; size?: number } | Response> {
    const headers = new Headers({ accept: MANIFEST_ACCEPT });
    const res = await client.fetch({ ...registryRequest(target, req, `/v2/${target.repository}/manifests/${target.tag}`, headers), method: 'GET' }, ctx);
    if (res.status === 404) {
      await discardBody(res);
      return notFound(req, `no tag '${target.tag}' in ${target.repository}`);
    }
    if (res.status !== 200) return res;
    const layer = pickLayer(await readLayers(res, req.url), target.mediaTypes);
    if (!layer) return notFound(req, `no layer of type ${target.mediaTypes.join(' or ')} in ${target.repository}:${target.tag}`);
    return { digest: layer.digest, ...(layer.size !== undefined ? { size: layer.size } : {}) };
  }

  async function blob(target: OciTarget, req: GatewayRequest, ctx: RequestContext, digest: string): Promise<Response> {
    const headers = new Headers({ 'accept-encoding': 'identity' });
    for (const name of BLOB_HEADERS) {
      const value = req.headers.get(name);
      if (value !== null) headers.set(name, value);
    }
    return client.fetch(registryRequest(target, req, `/v2/${target.repository}/blobs/${digest}`, headers), ctx);
  }

  /**
   * `callerVerifies`: the digest is the X-Expected-Sha256 the caller sent, which only
   * download() sends and proves while streaming (and on resume, over the whole file):
   * hashing the same bytes a second time here would prove nothing more (measured: it cost
   * about a quarter of the OCI path's time, bench/oci-isolate.ts).
   */
  async function answer(res: Response, target: OciTarget, req: GatewayRequest, digest: string, size: number | undefined,
    callerVerifies: boolean): Promise<Response> {
    const headers = new Headers();
    for (const name of KEEP_HEADERS) {
      const value = res.headers.get(name);
      if (value !== null) headers.set(name, value);
    }
    if (res.status === 200 || res.status === 206 || res.status === 304) {
      headers.set('content-type', target.contentType);
      // The digest is the strongest validator there is; If-Range and If-None-Match use it.
      headers.set('etag', `"${digest}"`);
    } else if (res.headers.get('content-type')) {
      headers.set('content-type', res.headers.get('content-type')!);
    }
    let body: Readable | null = req.method === 'HEAD' ? null : await nodeBodyOf(res);
    if (req.method === 'HEAD') await discardBody(res);
    if (body && res.status === 200 && !callerVerifies) {
      // A 206 slice cannot be checked alone; download() proves the whole file against its sha256.
      body = pipeline(body, digestVerifier(digest, size, maskUrl(req.url)), () => undefined) as unknown as Readable;
    }
    return responseFromNode(body, { status: res.status, statusText: res.statusText, headers });
  }

  return {
    schemes: ['oci:'],
    client,
    async send(req, ctx) {
      try {
        return await sendOci(req, ctx);
      } catch (err) {
        // Registry tokens are secrets: whatever a lower layer put in a message, they are masked.
        throw maskTokens(err, client.tokens.secrets());
      }
    },
    async close() {
      await http.close();
    },
  };

  async function sendOci(req: GatewayRequest, ctx: RequestContext): Promise<Response> {
    req.signal?.throwIfAborted();
    const target = ociTarget(req.url, deps.settings.ociEncoding);
    if (!target) return notFound(req, 'this file has no place in an OCI channel');
    const hinted = target.kind === 'package' ? sha256Digest(req.headers.get('x-expected-sha256')) : undefined;
    let digest = target.digest ?? hinted;
    let size: number | undefined;
    if (!digest) {
      const resolved = await resolve(target, req, ctx);
      if (!('digest' in resolved)) return resolved;
      ({ digest, size } = resolved);
      const inm = req.headers.get('if-none-match');
      if (inm && inm.split(',').some((tag) => tag.trim().replace(/^W\//, '') === `"${digest}"`)) {
        return responseFromNode(null, { status: 304, statusText: 'Not Modified', headers: { etag: `"${digest}"` } });
      }
    }
    let res = await blob(target, req, ctx, digest);
    if (res.status === 404 && hinted && !target.digest) {
      // Pull-through caches fill blobs only after the manifest was asked for.
      await discardBody(res);
      deps.log(`oci: ${maskUrl(req.url)}: blob ${digest} not found by digest; trying the manifest`);
      const resolved = await resolve(target, req, ctx);
      if (!('digest' in resolved)) return resolved;
      ({ digest, size } = resolved);
      res = await blob(target, req, ctx, digest);
    }
    return answer(res, target, req, digest, size, digest === hinted);
  }
}

/** Tell the client which repositories the session will pull, per registry, in order (for batched tokens). */
function expectRepositories(client: RegistryClient, urls: readonly URL[], encoding: OciEncoding): void {
  const byRegistry = new Map<string, string[]>();
  for (const url of urls) {
    if (url.protocol !== 'oci:') continue;
    let target: OciTarget | undefined;
    try {
      target = ociTarget(url, encoding);
    } catch {
      continue; // a URL with no place in a registry fails when it is fetched, not here
    }
    if (!target) continue;
    const list = byRegistry.get(target.registry) ?? [];
    list.push(`repository:${target.repository}:pull`);
    byRegistry.set(target.registry, list);
  }
  for (const [registry, scopes] of byRegistry) client.expect(registry, scopes);
}

function maskTokens(err: unknown, secrets: readonly string[]): unknown {
  if (!(err instanceof Error) || !secrets.length) return err;
  err.message = redactText(err.message, secrets);
  if (err.stack) err.stack = redactText(err.stack, secrets);
  return err;
}
