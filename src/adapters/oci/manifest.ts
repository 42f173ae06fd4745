/** OCI image manifests: the Accept list, a size-limited parse, and the layer of a media type. */
import type { Response } from 'undici';
import { CondaError } from '../../errors/classes.js';
import { maskUrl } from '../../redact/safe-url.js';
import { discardBody } from '../../core/response-info.js';

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** Manifests of conda artifacts are a few KiB; anything this big is not one. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

export interface Layer {
  readonly mediaType: string;
  readonly digest: string;
  readonly size?: number;
}

function bad(url: URL, why: string): CondaError {
  return new CondaError(`The registry sent an unusable manifest for ${maskUrl(url)}: ${why}.`, {
    code: 'CG_BAD_RESPONSE', url, hint: 'The registry or a proxy in front of it returned something that is not an OCI manifest.',
  });
}

/** The manifest's layers (only sha256 digests are accepted). `url` names the oci:// file in errors. */
export async function readLayers(res: Response, url: URL): Promise<Layer[]> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > MAX_MANIFEST_BYTES) {
    await discardBody(res);
    throw bad(url, `it is ${declared} bytes`);
  }
  const text = Buffer.from(await res.arrayBuffer()).toString('utf8');
  if (text.length > MAX_MANIFEST_BYTES) throw bad(url, 'it is too large');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw bad(url, 'it is not JSON');
  }
  const layers = (doc as { layers?: unknown }).layers;
  if (!Array.isArray(layers)) throw bad(url, 'it has no layers');
  return layers.flatMap((l): Layer[] => {
    const layer = l as { mediaType?: unknown; digest?: unknown; size?: unknown };
    if (typeof layer.mediaType !== 'string' || typeof layer.digest !== 'string' || !DIGEST.test(layer.digest)) return [];
    const size = typeof layer.size === 'number' && Number.isSafeInteger(layer.size) && layer.size >= 0 ? layer.size : undefined;
    return [{ mediaType: layer.mediaType, digest: layer.digest, ...(size !== undefined ? { size } : {}) }];
  });
}

export function pickLayer(layers: readonly Layer[], mediaTypes: readonly string[]): Layer | undefined {
  for (const type of mediaTypes) {
    const layer = layers.find((l) => l.mediaType === type);
    if (layer) return layer;
  }
  return undefined;
}
