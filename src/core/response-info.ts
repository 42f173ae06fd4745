/**
 * Facts about a Response that the WHATWG class cannot carry for non-HTTP adapters:
 * the final (masked) URL, attempts, elapsed time, and the adapter's Node stream for
 * the fast download path.
 */
import type { Readable } from 'node:stream';
import type { Response } from 'undici';
import { SafeUrl } from '../redact/safe-url.js';

export interface ResponseInfo {
  url: SafeUrl;
  attempts: number;
  elapsedMs: number;
  redirected: boolean;
}

const infos = new WeakMap<Response, ResponseInfo>();
const nodeBodies = new WeakMap<Response, Readable>();
const wireCounters = new WeakMap<Response, () => number>();

/** Used by adapters that decode a body (gzip, br): how many bytes came over the wire so far. */
export function registerWireBytes(res: Response, count: () => number): void {
  wireCounters.set(res, count);
}

/** Bytes received so far for a body the adapter decoded; undefined when it was not encoded. */
export function wireBytesOf(res: Response): (() => number) | undefined {
  return wireCounters.get(res);
}

export function getResponseInfo(res: Response): ResponseInfo | undefined {
  return infos.get(res);
}

export function setResponseInfo(res: Response, info: Partial<ResponseInfo>): void {
  const current = infos.get(res) ?? { url: new SafeUrl('about:blank'), attempts: 1, elapsedMs: 0, redirected: false };
  infos.set(res, { ...current, ...info });
}

/** Used by adapters: remember the Node stream behind a Response body. */
export function registerNodeBody(res: Response, body: Readable): void {
  nodeBodies.set(res, body);
}

/**
 * The body as a Node Readable. Uses the adapter's own stream when the web body has not
 * been touched (no copy through a web stream), else converts the web body.
 */
export async function nodeBodyOf(res: Response): Promise<Readable | null> {
  const { Readable: ReadableClass } = await import('node:stream');
  const direct = nodeBodies.get(res);
  if (direct && !res.bodyUsed) {
    nodeBodies.delete(res);
    return direct;
  }
  if (!res.body) return null;
  return ReadableClass.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
}

/** Throw away a body we will not read, so its connection is released; never fails. */
export async function discardBody(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined);
}
