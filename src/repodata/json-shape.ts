/**
 * Streaming validation of a repodata.json body, chunk by chunk as it is written to the cache,
 * without building it: a byte-level JSON syntax check (strings and the letter after each
 * backslash, numbers by JSON's grammar, `true`/`false`/`null`, commas and colons)
 * with a bounded nesting depth, plus conda's shape: one object whose `info` is an object,
 * `packages`/`packages.conda` are objects of record objects, `removed` an array. Memory is the
 * nesting stack and a few top-level key names; nothing is materialised.
 *
 * It is one loop with its state in locals, jumping over string contents with a native search (a
 * 250 MB index is ~25 million tokens: per-token cost is what matters). What it leaves out, for
 * speed: raw control characters inside strings and the four hex digits after `\u` (JSON.parse
 * would refuse those, conda's json.loads too) and invalid UTF-8 (JSON.parse replaces it).
 */

/** The body is not valid JSON or not the shape conda reads; `message` says where and why. */
import { StringDecoder } from 'node:string_decoder';

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
const VALUE = 0; // a value must come (after ':' or ',' in an array)
const VALUE_OR_CLOSE = 1; // just after '['
const KEY_OR_CLOSE = 2; // just after '{'
const KEY = 3; // after ',' in an object
const COLON = 4;
const AFTER = 5; // after a value: ',' or a closing bracket
const STRING = 6;
const NUMBER = 7;
const LITERAL = 8;
const DONE = 9;
const START = 10; // nothing seen yet

// Nesting kinds on the stack, and the kinds of values for the shape checks.
const OBJECT = 1;
const ARRAY = 2;
const SCALAR_STRING = 3;
const SCALAR_OTHER = 4; // number or literal

// What the value of a top-level key must be.
const SECTION_OTHER = 0;
const SECTION_INFO = 1;
const SECTION_RECORDS = 2;
const SECTION_REMOVED = 3;

/** Letters allowed after a backslash. */
const ESCAPES = new Uint8Array(256);
for (const ch of '"\\/bfnrtu') ESCAPES[ch.charCodeAt(0)] = 1;

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

/** numberStep as a table: NUMBER_STEPS[state << 8 | byte]. */
const NUMBER_STEPS = new Int8Array(9 << 8);
for (let state = 0; state < 9; state++) for (let b = 0; b < 256; b++) NUMBER_STEPS[(state << 8) | b] = numberStep(state, b);

/** States where a number may end. */
const NUMBER_ACCEPTS = [false, false, true, true, false, true, false, false, true];

const LITERALS = ['true', 'false', 'null'];

const SECTION_NAMES: Record<string, number> = {
  info: SECTION_INFO, packages: SECTION_RECORDS, 'packages.conda': SECTION_RECORDS, removed: SECTION_REMOVED,
};

/** Which shape checks the value of the top-level key `name` gets (SECTION_*; shared with json-shape-wasm.ts). */
export function sectionOf(name: string): number {
  return Object.hasOwn(SECTION_NAMES, name) ? SECTION_NAMES[name]! : SECTION_OTHER;
}

export class RepodataShapeValidator {
  readonly #maxDepth: number;
  #state = START;
  readonly #stack: Uint8Array;
  #depth = 0;
  /** The last chunk ended right after a backslash inside a string. */
  #escape = false;
  #stringIsKey = false;
  /** State of the number being read (see numberStep). */
  #num = 0;
  /** The literal being read (an index into LITERALS) and how much of it was seen. */
  #literal = 0;
  #literalAt = 0;
  /** A top-level key is being read: its text so far. */
  #collectKey = false;
  #topKey = '';
  /** Decodes the key's bytes across chunk boundaries (a character may be split). */
  readonly #keyDecoder = new StringDecoder('utf8');
  /** What the value of the current top-level key must be (SECTION_*). */
  #section = SECTION_OTHER;
  #sectionName = '';
  #records = 0;
  readonly #keys: string[] = [];
  #offset = 0;

  constructor(maxDepth: number = MAX_JSON_DEPTH) {
    this.#maxDepth = maxDepth;
    this.#stack = new Uint8Array(maxDepth + 2);
  }

  #fail(message: string, at: number): never {
    throw new JsonShapeError(`${message} at byte ${this.#offset + at}`);
  }

  /** Check the next chunk of the body; throws JsonShapeError at the first problem. */
  push(chunk: Uint8Array): void {
    // Buffer's indexOf is a native memchr; a plain Uint8Array's is not.
    const c = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const n = c.length;
    const stack = this.#stack;
    let i = 0;
    let state = this.#state;
    let depth = this.#depth;
    let keyStart = 0; // where the top-level key being collected starts in this chunk
    let nextBackslash = -1; // the next backslash at or after it, once searched
    while (i < n) {
      if (state === STRING) {
        if (this.#escape) {
          if (ESCAPES[c[i]!] === 0) this.#fail('an invalid escape in a string', i);
          this.#escape = false;
          i++;
        }
        // Most of an index is string bytes: jump to the next quote (a native search), and
        // handle the backslashes before it (rare: their next position is kept per chunk).
        const q = c.indexOf(0x22, i);
        if (nextBackslash < i) {
          const found = c.indexOf(0x5c, i);
          nextBackslash = found < 0 ? n : found;
        }
        if (nextBackslash < (q < 0 ? n : q)) {
          if (this.#collectKey) this.#fail('an escaped top-level key', nextBackslash);
          if (nextBackslash + 1 === n) {
            this.#escape = true;
            i = n;
            break;
          }
          if (ESCAPES[c[nextBackslash + 1]!] === 0) this.#fail('an invalid escape in a string', nextBackslash + 1);
          i = nextBackslash + 2;
          continue;
        }
        if (q < 0) {
          i = n;
          break;
        }
        i = q;
        // The closing quote.
        if (this.#stringIsKey) {
          state = COLON;
          if (this.#collectKey) {
            this.#endTopKey(c, keyStart, i);
          } else if (depth === 2 && this.#section === SECTION_RECORDS) {
            this.#records++;
          }
        } else {
          state = this.#valueDone(SCALAR_STRING, depth);
        }
        i++;
        continue;
      }
      if (state === NUMBER) {
        // The number's bytes in one loop, one table step each.
        let num = this.#num;
        let next = 0;
        while (i < n && (next = NUMBER_STEPS[(num << 8) | c[i]!]!) >= 0) {
          num = next;
          i++;
        }
        this.#num = num;
        if (i === n) break;
        if (!NUMBER_ACCEPTS[num]) this.#fail('a malformed number', i);
        state = this.#valueDone(SCALAR_OTHER, depth);
        continue; // the byte after it is read again in the new state
      }
      const b = c[i]!;
      if (state === LITERAL) {
        const word = LITERALS[this.#literal]!;
        if (this.#literalAt < word.length) {
          if (word.charCodeAt(this.#literalAt++) !== b) this.#fail('an unexpected literal', i);
          i++;
          continue;
        }
        state = this.#valueDone(SCALAR_OTHER, depth);
        continue;
      }
      if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) {
        i++;
        continue;
      }
      switch (state) {
        case AFTER:
          if (b === 0x2c) {
            state = stack[depth] === OBJECT ? KEY : VALUE;
          } else if (b === 0x7d || b === 0x5d) {
            if (stack[depth] !== (b === 0x7d ? OBJECT : ARRAY)) this.#fail('a mismatched closing bracket', i);
            depth--;
            state = depth === 0 ? DONE : AFTER;
          } else {
            this.#fail(`unexpected ${JSON.stringify(String.fromCharCode(b))}`, i);
          }
          break;
        case COLON:
          if (b !== 0x3a) this.#fail("expected ':'", i);
          state = VALUE;
          break;
        case KEY_OR_CLOSE:
        case KEY:
          if (b === 0x7d && state === KEY_OR_CLOSE) {
            depth--;
            state = depth === 0 ? DONE : AFTER;
            break;
          }
          if (b !== 0x22) this.#fail('expected a key', i);
          this.#stringIsKey = true;
          this.#collectKey = depth === 1;
          if (this.#collectKey) {
            this.#topKey = '';
            keyStart = i + 1;
          }
          state = STRING;
          break;
        case VALUE:
        case VALUE_OR_CLOSE:
        case START:
          if (b === 0x5d && state === VALUE_OR_CLOSE) {
            depth--;
            state = depth === 0 ? DONE : AFTER;
            break;
          }
          if (b === 0x7b || b === 0x5b) {
            const kind = b === 0x7b ? OBJECT : ARRAY;
            this.#checkOpen(kind, depth, i);
            stack[++depth] = kind;
            state = kind === OBJECT ? KEY_OR_CLOSE : VALUE_OR_CLOSE;
            break;
          }
          state = this.#startScalar(b, depth, i);
          break;
        case DONE:
          this.#fail('data after the end of the JSON object', i);
          break;
        default:
          this.#fail('unexpected state', i);
      }
      i++;
    }
    if (state === STRING && this.#collectKey) this.#appendKey(c, keyStart, n);
    this.#state = state;
    this.#depth = depth;
    this.#offset += n;
  }

  /** A scalar value starts with `b`; returns the state that reads it. */
  #startScalar(b: number, depth: number, at: number): number {
    if (depth === 0) this.#fail('the index is not a JSON object', at);
    if (b === 0x22) {
      this.#stringIsKey = false;
      this.#collectKey = false;
      return STRING;
    }
    if (b === 0x2d || (b >= 0x30 && b <= 0x39)) {
      this.#num = numberStep(0, b);
      return NUMBER;
    }
    const literal = b === 0x74 ? 0 : b === 0x66 ? 1 : b === 0x6e ? 2 : -1;
    if (literal < 0) this.#fail(`unexpected ${JSON.stringify(String.fromCharCode(b))}`, at);
    this.#literal = literal;
    this.#literalAt = 1;
    return LITERAL;
  }

  /** An object or array opens at `depth`: conda's shape and the depth limit. */
  #checkOpen(kind: number, depth: number, at: number): void {
    if (depth === 0) {
      if (kind !== OBJECT) this.#fail('the index is not a JSON object', at);
    } else if (depth === 1) {
      this.#checkSection(kind);
    } else if (depth === 2 && this.#section === SECTION_RECORDS && kind !== OBJECT) {
      throw new JsonShapeError(`a record in '${this.#sectionName}' is not an object`);
    }
    if (depth >= this.#maxDepth) this.#fail(`JSON nested deeper than ${this.#maxDepth} levels`, at);
  }

  /** A scalar value of `kind` has ended at `depth`: the shape checks; returns the next state. */
  #valueDone(kind: number, depth: number): number {
    if (depth === 1) this.#checkSection(kind);
    else if (depth === 2 && this.#section === SECTION_RECORDS) {
      throw new JsonShapeError(`a record in '${this.#sectionName}' is not an object`);
    }
    return AFTER;
  }

  /** conda's shape for the value of a top-level key (`info` may also be a number or literal, as before). */
  #checkSection(kind: number): void {
    const section = this.#section;
    if (section === SECTION_OTHER) return;
    if (section === SECTION_REMOVED) {
      if (kind !== ARRAY) throw new JsonShapeError(`'removed' is not an array`);
    } else if (kind !== OBJECT && !(section === SECTION_INFO && kind === SCALAR_OTHER)) {
      throw new JsonShapeError(`'${this.#sectionName}' is not an object`);
    }
  }

  #appendKey(c: Uint8Array, from: number, to: number): void {
    this.#topKey += this.#keyDecoder.write(Buffer.from(c.buffer, c.byteOffset + from, to - from));
    if (this.#topKey.length > 256) this.#fail('a top-level key over 256 characters', to);
  }

  #endTopKey(c: Uint8Array, from: number, to: number): void {
    this.#appendKey(c, from, to);
    this.#topKey += this.#keyDecoder.end();
    this.#collectKey = false;
    this.#keys.push(this.#topKey);
    if (this.#keys.length > 10_000) this.#fail('over 10000 top-level keys', to);
    this.#section = sectionOf(this.#topKey);
    this.#sectionName = this.#topKey;
  }

  /** Call after the last chunk: the summary, or a JsonShapeError for an incomplete body. */
  end(): JsonShapeSummary {
    if (this.#state === NUMBER) {
      if (!NUMBER_ACCEPTS[this.#num]) this.#fail('a malformed number', 0);
      this.#state = this.#valueDone(SCALAR_OTHER, this.#depth);
    } else if (this.#state === LITERAL) {
      if (this.#literalAt !== LITERALS[this.#literal]!.length) this.#fail('an unexpected literal', 0);
      this.#state = this.#valueDone(SCALAR_OTHER, this.#depth);
    }
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
