/** Messages between shape-sink.ts (parent) and shape-worker.ts. */

export type ToWorker =
  /**
   * The first message: the body's temp file, opened by the parent (the worker writes at offsets
   * and never closes it), and the nesting limit. A worker may be started before the file exists.
   */
  | { type: 'open'; fd: number; maxDepth: number }
  /** `length` bytes of `buffer` (transferred) are the next part of the body. */
  | { type: 'chunk'; buffer: ArrayBuffer; length: number }
  /** The body is complete. */
  | { type: 'end' };

export type ToParent =
  /** Chunks were validated and written (`length` bytes in all); their buffers come back (transferred) for reuse. */
  | { type: 'ack'; length: number; buffers: ArrayBuffer[] }
  | { type: 'done'; records: number; keys: string[]; bytes: number }
  /** `shape`: the body is not a valid index; `system`: a write failed (code/errno/syscall as fs gives them). */
  | { type: 'error'; kind: 'shape' | 'system'; message: string; code?: string; errno?: number; syscall?: string };
