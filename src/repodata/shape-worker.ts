/**
 * Worker thread of a cold repodata fetch (see shape-sink.ts): validates each decoded chunk
 * (json-shape-wasm.ts: WebAssembly, else json-shape.ts) and writes it at its offset into the temp file the parent opened, so the
 * parent's thread only receives and decodes. Chunks arrive as transferred ArrayBuffers and go
 * back, in batches, with the acknowledgement, for reuse. After the first failure nothing more
 * is written.
 */
import { writeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { JsonShapeError } from './json-shape.js';
import { createShapeValidator, preloadShapeValidator, type ShapeValidator } from './json-shape-wasm.js';
import type { ToParent, ToWorker } from './shape-protocol.js';

const port = parentPort!;
// Compiled while the thread waits for its first body (it may be started ahead of the response).
preloadShapeValidator();
let fd = -1;
let validator: ShapeValidator | undefined;
let position = 0;
let failed = false;
/** Acknowledged once the queued messages are handled (one wake-up of the parent per batch, not per chunk). */
let acked = 0;
let returned: ArrayBuffer[] = [];

function flushAcks(): void {
  if (returned.length === 0 || failed) return;
  port.postMessage({ type: 'ack', length: acked, buffers: returned } satisfies ToParent, returned);
  acked = 0;
  returned = [];
}

function report(err: unknown): void {
  failed = true;
  const e = err as NodeJS.ErrnoException;
  const message: ToParent = err instanceof JsonShapeError
    ? { type: 'error', kind: 'shape', message: e.message }
    : { type: 'error', kind: 'system', message: e?.message ?? String(err), code: e?.code, errno: e?.errno, syscall: e?.syscall };
  port.postMessage(message);
}

port.on('message', (m: ToWorker) => {
  if (failed) return;
  try {
    if (m.type === 'open') {
      fd = m.fd;
      validator = createShapeValidator(m.maxDepth);
    } else if (m.type === 'chunk') {
      const bytes = Buffer.from(m.buffer, 0, m.length);
      validator!.push(bytes);
      for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
      position += bytes.length;
      if (returned.length === 0) setImmediate(flushAcks);
      acked += m.length;
      returned.push(m.buffer);
    } else {
      flushAcks();
      const summary = validator!.end();
      port.postMessage({ type: 'done', records: summary.records, keys: summary.keys, bytes: position } satisfies ToParent);
    }
  } catch (err) {
    report(err);
  }
});
