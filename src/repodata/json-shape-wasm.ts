/**
 * The repodata validator of json-shape.ts compiled to WebAssembly with SIMD (source:
 * wasm/json-shape.c, rebuilt by scripts/build-wasm.mjs into json-shape-wasm-binary.ts): the same
 * state machine and the same verdicts, with string contents skipped 16 bytes at a time — on a
 * conda-forge-sized index about 4× faster than the JavaScript loop, which stays as the
 * fallback (no WebAssembly SIMD, or a nesting limit above the module's stack).
 *
 * Each validator holds an instance while it works (its state lives in the module's globals);
 * a validator that ended or failed gives it back for the next one (creating an instance
 * reserves a large address range: ~0.4 ms, and costly to release by the thousand). Chunks are
 * copied into the module's 1 MiB input area (larger ones in pieces); this side handles what
 * needs strings: the names of top-level keys (they choose the shape checks of their values)
 * and the error messages, which are the JavaScript validator's.
 */
import { StringDecoder } from 'node:string_decoder';
import { BASE64 } from './json-shape-wasm-binary.js';
import { JsonShapeError, MAX_JSON_DEPTH, RepodataShapeValidator, sectionOf, type JsonShapeSummary } from './json-shape.js';

/** What both validators offer. */
export interface ShapeValidator {
  push(chunk: Uint8Array): void;
  end(): JsonShapeSummary;
}

/** The part of the WebAssembly global used here (the project's TypeScript lib has no DOM types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

interface ShapeExports {
  memory: { buffer: ArrayBuffer };
  init(maxDepth: number): void;
  input_ptr(): number;
  capacity(): number;
  max_stack(): number;
  push(start: number, n: number): number;
  finish(any: number): number;
  records(): number;
  key_start(): number;
  event_at(): number;
  err_at(): number;
  err_byte(): number;
  set_section(section: number): void;
  pending_key(): number;
}

// Results of push()/finish() (the enum in json-shape.c).
const OK = 0;
const KEY_END = 1;
const MESSAGES: readonly (string | undefined)[] = [
  undefined, undefined, 'an invalid escape in a string', 'an escaped top-level key', 'a malformed number',
  'an unexpected literal', 'a mismatched closing bracket', 'unexpected', "expected ':'", 'expected a key',
  'data after the end of the JSON object', 'the index is not a JSON object', 'nested', 'record', 'removed', 'section',
  'the body is empty', 'ends early',
];
const E_UNEXPECTED = 7;
const E_DEPTH = 12;
const E_RECORD_NOT_OBJECT = 13;
const E_REMOVED_NOT_ARRAY = 14;
const E_SECTION_NOT_OBJECT = 15;
const E_EMPTY = 16;
const E_ENDS_EARLY = 17;

let compiled: object | null | undefined;
/** Instances given back by validators that are done, for reuse. */
const idle: ShapeExports[] = [];
const MAX_IDLE = 4;

/** The compiled module, or null where this runtime cannot run it (e.g. no SIMD). */
function shapeModule(): object | null {
  if (compiled === undefined) {
    try {
      compiled = wasm ? new wasm.Module(Buffer.from(BASE64, 'base64')) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

export class WasmShapeValidator implements ShapeValidator {
  #x: ShapeExports | undefined;
  readonly #input: Uint8Array;
  readonly #capacity: number;
  readonly #maxDepth: number;
  #offset = 0;
  #topKey = '';
  /** Decodes the key's bytes across chunk boundaries (a character may be split). */
  readonly #keyDecoder = new StringDecoder('utf8');
  #sectionName = '';
  readonly #keys: string[] = [];

  /** Throws where WebAssembly SIMD is unavailable; createShapeValidator() falls back instead. */
  constructor(maxDepth: number = MAX_JSON_DEPTH) {
    const module = shapeModule();
    if (!module) throw new Error('WebAssembly SIMD is not available');
    const x = idle.pop() ?? (new wasm!.Instance(module, {}).exports as unknown as ShapeExports);
    if (maxDepth > x.max_stack()) throw new RangeError(`maxDepth over ${x.max_stack()}`);
    x.init(maxDepth);
    this.#x = x;
    this.#maxDepth = maxDepth;
    this.#capacity = x.capacity();
    this.#input = new Uint8Array(x.memory.buffer, x.input_ptr(), this.#capacity);
  }

  /** The instance, while this validator has it. */
  #instance(): ShapeExports {
    if (!this.#x) throw new JsonShapeError('the validator has already finished');
    return this.#x;
  }

  /** Done with the body (ended or failed): the instance goes back for the next validator. */
  #release(): void {
    if (this.#x && idle.length < MAX_IDLE) idle.push(this.#x);
    this.#x = undefined;
  }

  /** Check the next chunk of the body; throws JsonShapeError at the first problem. */
  push(chunk: Uint8Array): void {
    this.#instance();
    for (let at = 0; at < chunk.length; at += this.#capacity) {
      const piece = chunk.subarray(at, at + this.#capacity);
      this.#input.set(piece);
      this.#pushPiece(piece.length);
      this.#offset += piece.length;
    }
  }

  #pushPiece(n: number): void {
    const x = this.#instance();
    let start = 0;
    for (;;) {
      const r = x.push(start, n);
      if (r === OK) break;
      if (r !== KEY_END) this.#fail(r);
      this.#endTopKey(x.key_start(), x.event_at());
      start = x.event_at() + 1;
    }
    if (x.pending_key()) this.#appendKey(x.key_start(), n);
  }

  #appendKey(from: number, to: number): void {
    this.#topKey += this.#keyDecoder.write(Buffer.from(this.#input.buffer, this.#input.byteOffset + from, to - from));
    if (this.#topKey.length > 256) this.#throwAt('a top-level key over 256 characters', to);
  }

  #endTopKey(from: number, to: number): void {
    this.#appendKey(from, to);
    this.#topKey += this.#keyDecoder.end();
    this.#keys.push(this.#topKey);
    if (this.#keys.length > 10_000) this.#throwAt('over 10000 top-level keys', to);
    this.#instance().set_section(sectionOf(this.#topKey));
    this.#sectionName = this.#topKey;
    this.#topKey = '';
  }

  #throwAt(message: string, at: number): never {
    this.#release();
    throw new JsonShapeError(`${message} at byte ${this.#offset + at}`);
  }

  #fail(code: number): never {
    const x = this.#instance();
    const at = x.err_at();
    const byte = x.err_byte();
    this.#release();
    switch (code) {
      case E_UNEXPECTED: return this.#throwAt(`unexpected ${JSON.stringify(String.fromCharCode(byte))}`, at);
      case E_DEPTH: return this.#throwAt(`JSON nested deeper than ${this.#maxDepth} levels`, at);
      case E_RECORD_NOT_OBJECT: throw new JsonShapeError(`a record in '${this.#sectionName}' is not an object`);
      case E_REMOVED_NOT_ARRAY: throw new JsonShapeError(`'removed' is not an array`);
      case E_SECTION_NOT_OBJECT: throw new JsonShapeError(`'${this.#sectionName}' is not an object`);
      case E_EMPTY: throw new JsonShapeError('the body is empty');
      case E_ENDS_EARLY: throw new JsonShapeError(`the JSON ends early (at byte ${this.#offset})`);
      default: return this.#throwAt(MESSAGES[code] ?? `validator error ${code}`, at);
    }
  }

  /** Call after the last chunk: the summary, or a JsonShapeError for an incomplete body. */
  end(): JsonShapeSummary {
    const x = this.#instance();
    const r = x.finish(this.#offset > 0 ? 1 : 0);
    if (r !== OK) this.#fail(r);
    const records = x.records();
    this.#release();
    return { records, keys: [...this.#keys] };
  }
}

/** Compile the module and make one instance ahead of the first validator (a worker waiting for work). */
export function preloadShapeValidator(): void {
  const module = shapeModule();
  if (module && idle.length === 0) idle.push(new wasm!.Instance(module, {}).exports as unknown as ShapeExports);
}

/** The WebAssembly validator where it runs, else the JavaScript one (same verdicts). */
export function createShapeValidator(maxDepth: number = MAX_JSON_DEPTH): ShapeValidator {
  if (shapeModule() && maxDepth <= 1024) return new WasmShapeValidator(maxDepth);
  return new RepodataShapeValidator(maxDepth);
}
