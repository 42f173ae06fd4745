/**
 * Build WHATWG Responses (undici's class) from Node streams without copying: the web
 * body pulls from the Node stream only when someone reads it, and download() can take
 * the Node stream directly.
 */
import type { Readable } from 'node:stream';
import { Headers, Response } from '../util/undici.js';
import { registerNodeBody } from '../core/response-info.js';

/** A web ReadableStream that reads the Node stream lazily (highWaterMark 0: no pull before a read). */
function lazyWebStream(node: Readable): ReadableStream<Uint8Array> {
  let iterator: AsyncIterator<Buffer | string> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      iterator ??= node[Symbol.asyncIterator]();
      const { value, done } = await iterator.next();
      if (done) controller.close();
      else {
        const buf = typeof value === 'string' ? Buffer.from(value) : value;
        controller.enqueue(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
      }
    },
    cancel() {
      destroyQuietly(node);
    },
  }, { highWaterMark: 0 });
}

/** Destroy a body nobody will read; its abort error has no listener to reach. */
export function destroyQuietly(node: Readable): void {
  node.on('error', () => undefined);
  node.destroy();
}

export interface ResponseInit {
  status: number;
  statusText?: string;
  headers?: Headers | Record<string, string>;
}

const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

/** A Response whose body is the given Node stream (or empty). */
export function responseFromNode(body: Readable | null, init: ResponseInit): Response {
  const headers = init.headers instanceof Headers ? init.headers : new Headers(init.headers ?? {});
  const status = init.status;
  if (!body || NULL_BODY_STATUS.has(status)) {
    if (body) destroyQuietly(body);
    return new Response(null, { status, statusText: init.statusText ?? '', headers });
  }
  const res = new Response(lazyWebStream(body) as unknown as ConstructorParameters<typeof Response>[0], {
    status, statusText: init.statusText ?? '', headers,
  });
  registerNodeBody(res, body);
  return res;
}

/** A small JSON response, e.g. conda's 404 body for a missing local file. */
export function jsonResponse(status: number, body: unknown, statusText = ''): Response {
  return new Response(JSON.stringify(body, null, 2), {
    status, statusText, headers: new Headers({ 'content-type': 'application/json' }),
  });
}
