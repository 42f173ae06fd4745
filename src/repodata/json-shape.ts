/**
 * Streaming validation of a repodata.json body, chunk by chunk as it is written to the cache,
 * without building it: a byte-level JSON syntax check (strings, escapes, numbers, literals,
 * commas and colons) with a bounded nesting depth, plus conda's shape: one object whose
 * `info` is an object, `packages`/`packages.conda` are objects of record objects, `removed`
 * an array. Memory is the nesting stack and a few top-level key names; nothing is materialised.
 * What it leaves out, for speed (JSON.parse would also refuse these): the letter after a
 * backslash in a string, raw control characters inside strings and invalid UTF-8.
 */

/** The body is not valid JSON or not the shape conda reads; `message` says where and why. */
export class JsonShapeError extends Error {}

/** Deeper than this is refused (repodata is 4 levels deep; a record's values add a few). */
export const MAX_JSON_DEPTH = 64;

export interface JsonShapeSummary {
  /** Records under `packages` and `packages.conda`. */
  records: number;
  /** Top-level keys, in order. */
  keys: string[];
}

// Tokenizer states.
const VALUE = 0; // a value must come (after ':' or ',' in an array, or at the start)
const VALUE_OR_CLOSE = 1; // just after '['
const KEY_OR_CLOSE = 2; // just after '{'
const KEY = 3; // after ',' in an object
const COLON = 4;
const AFTER = 5; // after a value: ',' or a closing bracket
const STRING = 6;
const NUMBER = 7;
const LITERAL = 8;
const DONE = 9;

const OBJECT = 1;
const ARRAY = 2;

const Q = 0x22; // "
const BS = 0x5c; // \

/** Whitespace: space, tab, LF, CR. */
function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/**
 * JSON's number grammar as a small automaton: 0 start, 1 after '-', 2 a leading 0, 3 integer
 * digits, 4 after '.', 5 fraction digits, 6 after 'e', 7 after the exponent's sign, 8 exponent
 * digits. Returns the next state, or -1 when `b` cannot continue the number (it ends there).
 */
function numberStep(state: number, b: number): number {
  const digit = b >= 0x30 && b <= 0x39;
  switch (state) {
    case 0: return b === 0x2d ? 1 : b === 0x30 ? 2 : digit ? 3 : -1;
    case 1: return b === 0x30 ? 2 : digit ? 3 : -1;
    case 2: return b === 0x2e ? 4 : b === 0x65 || b === 0x45 ? 6 : -1;
    case 3: return digit ? 3 : b === 0x2e ? 4 : b === 0x65 || b === 0x45 ? 6 : -1;
    case 4: return digit ? 5 : -1;
    case 5: return digit ? 5 : b === 0x65 || b === 0x45 ? 6 : -1;
    case 6: return b === 0x2b || b === 0x2d ? 7 : digit ? 8 : -1;
    case 7: return digit ? 8 : -1;
    case 8: return digit ? 8 : -1;
    default: return -1;
  }
}

/** States where a number may end. */
const NUMBER_ACCEPTS = [false, false, true, true, false, true, false, false, true];

export class RepodataShapeValidator {
  readonly #maxDepth: number;
  #state = VALUE;
  readonly #stack: Uint8Array;
  #depth = 0;
  /** The string part of the last chunk ended in an odd run of backslashes (the next byte is escaped). */
  #escape = false;
  #stringIsKey = false;
  /** State of the number being read (see numberStep). */
  #num = 0;
  /** The literal being read (`true`, `false`, `null`) and how much of it was seen. */
  #literal = '';
  #literalAt = 0;
  #collectKey = false;
  #topKey = '';
  /** The top-level key whose value is being read, and whether its records are counted. */
  #section = '';
  #records = 0;
  readonly #keys: string[] = [];
  #offset = 0;

  constructor(maxDepth: number = MAX_JSON_DEPTH) {
    this.#maxDepth = maxDepth;
    this.#stack = new Uint8Array(maxDepth + 1);
  }

  #fail(message: string, at: number): never {
    throw new JsonShapeError(`${message} at byte ${this.#offset + at}`);
  }

  push(chunk: Uint8Array): void {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      const state = this.#state;
      if (state === STRING) {
        i = this.#string(chunk, i);
        continue;
      }
      const b = chunk[i]!;
      if (state === NUMBER) {
        const next = numberStep(this.#num, b);
        if (next >= 0) {
          this.#num = next;
          i++;
          continue;
        }
        this.#endToken(i);
        continue;
      }
      if (state === LITERAL) {
        if (b >= 0x61 && b <= 0x7a) {
          if (this.#literal.charCodeAt(this.#literalAt++) !== b) this.#fail('an unexpected literal', i);
          i++;
          continue;
        }
        this.#endToken(i);
        continue;
      }
      if (isSpace(b)) {
        i++;
        continue;
      }
      this.#structural(b, i);
      i++;
    }
    this.#offset += n;
  }

  /**
   * Inside a string from `i`: returns the index after it (or the chunk's end). A quote ends
   * the string unless an odd run of backslashes comes before it (the run may start in the
   * previous chunk: #escape carries its parity).
   */
  #string(chunk: Uint8Array, i: number): number {
    const n = chunk.length;
    const start = i;
    for (;;) {
      const q = chunk.indexOf(Q, i);
      if (q === -1) {
        let run = 0;
        while (run < n - start && chunk[n - 1 - run] === BS) run++;
        this.#escape = run === n - start ? this.#escape !== (run % 2 === 1) : run % 2 === 1;
        this.#keepKey(chunk, start, n);
        return n;
      }
      let run = 0;
      while (q - 1 - run >= start && chunk[q - 1 - run] === BS) run++;
      const escaped = q - run === start && this.#escape ? run % 2 === 0 : run % 2 === 1;
      if (escaped) {
        i = q + 1;
        continue;
      }
      this.#escape = false;
      this.#keepKey(chunk, start, q);
      this.#afterString();
      return q + 1;
    }
  }

  #keepKey(chunk: Uint8Array, from: number, to: number): void {
    if (!this.#collectKey) return;
    this.#topKey += Buffer.from(chunk.buffer, chunk.byteOffset + from, to - from).toString('utf8');
    if (this.#topKey.length > 256) this.#fail('a top-level key over 256 characters', to);
  }

  #afterString(): void {
    if (this.#stringIsKey) {
      this.#state = COLON;
      if (this.#collectKey) {
        this.#collectKey = false;
        this.#section = this.#topKey;
        this.#keys.push(this.#topKey);
        if (this.#keys.length > 10_000) this.#fail('over 10000 top-level keys', 0);
      } else if (this.#depth === 2 && this.#isRecordSection()) {
        this.#records++;
      }
    } else {
      this.#valueDone(0x22);
    }
  }

  #isRecordSection(): boolean {
    return this.#section === 'packages' || this.#section === 'packages.conda';
  }

  #endToken(at: number): void {
    if (this.#state === NUMBER) {
      if (!NUMBER_ACCEPTS[this.#num]) this.#fail('a malformed number', at);
    } else if (this.#literalAt !== this.#literal.length) {
      this.#fail('an unexpected literal', at);
    }
    this.#valueDone(0x30);
  }

  /** A value of kind `first` (its first byte) has ended at the current depth. */
  #valueDone(first: number): void {
    if (this.#depth === 1 && this.#stack[1] === OBJECT) this.#checkSection(first);
    else if (this.#depth === 2 && this.#stack[1] === OBJECT && this.#isRecordSection() && this.#stack[2] === OBJECT) {
      // A scalar where a record must be.
      if (first !== 0x7b) throw new JsonShapeError(`a record in '${this.#section}' is not an object`);
    }
    this.#state = this.#depth === 0 ? DONE : AFTER;
  }

  /** conda's shape for the value of a top-level key, judged by its first byte. */
  #checkSection(first: number): void {
    const want: Record<string, number> = { info: 0x7b, packages: 0x7b, 'packages.conda': 0x7b, removed: 0x5b };
    const expected = want[this.#section];
    if (expected !== undefined && first !== expected && !(this.#section === 'info' && first === 0x30)) {
      throw new JsonShapeError(`'${this.#section}' is not ${expected === 0x7b ? 'an object' : 'an array'}`);
    }
  }

  #open(kind: number, b: number, at: number): void {
    if (this.#depth === 0 && kind !== OBJECT) this.#fail('the index is not a JSON object', at);
    if (this.#depth === 1) this.#checkSection(b);
    if (this.#depth === 2 && this.#stack[1] === OBJECT && this.#isRecordSection() && kind !== OBJECT) {
      throw new JsonShapeError(`a record in '${this.#section}' is not an object`);
    }
    if (this.#depth >= this.#maxDepth) this.#fail(`JSON nested deeper than ${this.#maxDepth} levels`, at);
    this.#stack[++this.#depth] = kind;
    this.#state = kind === OBJECT ? KEY_OR_CLOSE : VALUE_OR_CLOSE;
  }

  #close(kind: number, at: number): void {
    if (this.#stack[this.#depth] !== kind) this.#fail('a mismatched closing bracket', at);
    this.#depth--;
    this.#state = this.#depth === 0 ? DONE : AFTER;
  }

  #structural(b: number, at: number): void {
    switch (this.#state) {
      case VALUE:
      case VALUE_OR_CLOSE:
        if (b === 0x5d && this.#state === VALUE_OR_CLOSE) return this.#close(ARRAY, at);
        return this.#startValue(b, at);
      case KEY_OR_CLOSE:
      case KEY:
        if (b === 0x7d && this.#state === KEY_OR_CLOSE) return this.#close(OBJECT, at);
        if (b !== Q) this.#fail('expected a key', at);
        this.#stringIsKey = true;
        this.#collectKey = this.#depth === 1;
        this.#topKey = '';
        this.#state = STRING;
        return;
      case COLON:
        if (b !== 0x3a) this.#fail("expected ':'", at);
        this.#state = VALUE;
        return;
      case AFTER:
        if (b === 0x2c) {
          this.#state = this.#stack[this.#depth] === OBJECT ? KEY : VALUE;
          return;
        }
        if (b === 0x7d) return this.#close(OBJECT, at);
        if (b === 0x5d) return this.#close(ARRAY, at);
        return this.#fail(`unexpected ${JSON.stringify(String.fromCharCode(b))}`, at);
      case DONE:
        return this.#fail('data after the end of the JSON object', at);
      default:
        return this.#fail('unexpected state', at);
    }
  }

  #startValue(b: number, at: number): void {
    if (b === 0x7b) return this.#open(OBJECT, b, at);
    if (b === 0x5b) return this.#open(ARRAY, b, at);
    if (this.#depth === 0) this.#fail('the index is not a JSON object', at);
    if (b === Q) {
      this.#stringIsKey = false;
      this.#collectKey = false;
      this.#state = STRING;
      return;
    }
    if (b === 0x2d || (b >= 0x30 && b <= 0x39)) {
      this.#state = NUMBER;
      this.#num = numberStep(0, b);
      return;
    }
    const literal = b === 0x74 ? 'true' : b === 0x66 ? 'false' : b === 0x6e ? 'null' : undefined;
    if (literal) {
      this.#state = LITERAL;
      this.#literal = literal;
      this.#literalAt = 1;
      return;
    }
    this.#fail(`unexpected ${JSON.stringify(String.fromCharCode(b))}`, at);
  }

  /** Call after the last chunk: the summary, or a JsonShapeError for an incomplete body. */
  end(): JsonShapeSummary {
    if (this.#state === NUMBER || this.#state === LITERAL) this.#endToken(0);
    if (this.#state !== DONE) {
      throw new JsonShapeError(this.#offset === 0 ? 'the body is empty' : `the JSON ends early (at byte ${this.#offset})`);
    }
    return { records: this.#records, keys: [...this.#keys] };
  }
}

/** Validate a whole buffer at once. */
export function validateRepodataShape(bytes: Uint8Array, maxDepth?: number): JsonShapeSummary {
  const v = new RepodataShapeValidator(maxDepth);
  v.push(bytes);
  return v.end();
}
