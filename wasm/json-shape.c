/*
 * The repodata.json validator of src/repodata/json-shape.ts, in C for WebAssembly with SIMD:
 * the same state machine, byte for byte the same verdicts, with string contents (4/5 of a
 * repodata index) skipped 16 bytes at a time. The TypeScript side (json-shape-wasm.ts) copies
 * each chunk into `input`, calls push(), and handles the rare events: a top-level key ended
 * (its name decides the shape checks of its value: set_section), and errors (a code, a
 * position, a byte; the messages are built there). No libc, no allocation: all state is here.
 *
 * Rebuild: node scripts/build-wasm.mjs (clang + wasm-ld with the wasm32 target), which writes
 * src/repodata/json-shape-wasm-binary.ts.
 */
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(name)))

#define CAP (1 << 20)      /* bytes per push(); larger chunks are pushed in pieces */
#define MAX_STACK 1024     /* nesting stack; a larger maxDepth stays on the JS validator */

/* Tokenizer states (as in json-shape.ts). */
enum { VALUE, VALUE_OR_CLOSE, KEY_OR_CLOSE, KEY, COLON, AFTER, STRING, NUMBER, LITERAL, DONE, START };
/* Nesting kinds and value kinds. */
enum { OBJECT = 1, ARRAY = 2, SCALAR_STRING = 3, SCALAR_OTHER = 4 };
/* What the value of the current top-level key must be. */
enum { SECTION_OTHER, SECTION_INFO, SECTION_RECORDS, SECTION_REMOVED };
/* push()/finish() results: 0 the chunk is done, 1 a top-level key ended, >= 2 an error. */
enum {
  OK, KEY_END,
  E_ESCAPE, E_ESCAPED_KEY, E_NUMBER, E_LITERAL, E_MISMATCH, E_UNEXPECTED, E_COLON, E_KEY,
  E_AFTER_END, E_NOT_OBJECT, E_DEPTH, E_RECORD_NOT_OBJECT, E_REMOVED_NOT_ARRAY, E_SECTION_NOT_OBJECT,
  E_EMPTY, E_ENDS_EARLY
};

/* 16 bytes of slack: the vector scan may read past the end of a chunk (and ignores it). */
static uint8_t input[CAP + 16] __attribute__((aligned(16)));
static uint8_t stack[MAX_STACK + 2];
static int8_t number_steps[9 << 8];
static uint8_t escapes[256];

static int32_t g_state = START, g_depth, g_escape, g_string_is_key, g_num, g_literal, g_literal_at;
static int32_t g_collect_key, g_section, g_max_depth = 64, g_key_start;
static int32_t g_event_at, g_err_at, g_err_byte;
static double g_records;

static const char *const words[3] = { "true", "false", "null" };
static const int32_t word_lengths[3] = { 4, 5, 4 };
static const uint8_t number_accepts[9] = { 0, 0, 1, 1, 0, 1, 0, 0, 1 };

/* JSON's number grammar (see numberStep in json-shape.ts); -1: `b` ends the number. */
static int32_t number_step(int32_t state, int32_t b) {
  int32_t digit = b >= '0' && b <= '9';
  int32_t e = b == 'e' || b == 'E';
  switch (state) {
    case 0: return b == '-' ? 1 : b == '0' ? 2 : digit ? 3 : -1;
    case 1: return b == '0' ? 2 : digit ? 3 : -1;
    case 2: return b == '.' ? 4 : e ? 6 : -1;
    case 3: return digit ? 3 : b == '.' ? 4 : e ? 6 : -1;
    case 4: return digit ? 5 : -1;
    case 5: return digit ? 5 : e ? 6 : -1;
    case 6: return b == '+' || b == '-' ? 7 : digit ? 8 : -1;
    case 7: return digit ? 8 : -1;
    case 8: return digit ? 8 : -1;
    default: return -1;
  }
}

EXPORT("input_ptr") uint8_t *input_ptr(void) { return input; }
EXPORT("capacity") int32_t capacity(void) { return CAP; }
EXPORT("max_stack") int32_t max_stack(void) { return MAX_STACK; }
EXPORT("records") double records(void) { return g_records; }
EXPORT("key_start") int32_t key_start(void) { return g_key_start; }
EXPORT("event_at") int32_t event_at(void) { return g_event_at; }
EXPORT("err_at") int32_t err_at(void) { return g_err_at; }
EXPORT("err_byte") int32_t err_byte(void) { return g_err_byte; }
EXPORT("set_section") void set_section(int32_t section) { g_section = section; }
/* A top-level key's name runs on past the end of the chunk just pushed (its bytes from key_start). */
EXPORT("pending_key") int32_t pending_key(void) { return g_state == STRING && g_collect_key; }

/* Start a new body (an instance is reused for one body after another). */
EXPORT("init") void init(int32_t max_depth) {
  if (!escapes['u']) {
    for (int32_t s = 0; s < 9; s++)
      for (int32_t b = 0; b < 256; b++) number_steps[(s << 8) | b] = (int8_t)number_step(s, b);
    const char *e = "\"\\/bfnrtu";
    for (int32_t k = 0; e[k]; k++) escapes[(uint8_t)e[k]] = 1;
  }
  g_state = START;
  g_depth = g_escape = g_string_is_key = g_num = g_literal = g_literal_at = 0;
  g_collect_key = g_section = g_key_start = g_event_at = g_err_at = g_err_byte = 0;
  g_records = 0;
  g_max_depth = max_depth;
}

/* The first quote or backslash in c[i..n), or n. */
static inline int32_t scan_string(const uint8_t *c, int32_t i, int32_t n) {
  const v128_t quote = wasm_i8x16_splat('"');
  const v128_t backslash = wasm_i8x16_splat('\\');
  while (i < n) {
    v128_t v = wasm_v128_load(c + i);
    uint32_t m = wasm_i8x16_bitmask(wasm_v128_or(wasm_i8x16_eq(v, quote), wasm_i8x16_eq(v, backslash)));
    if (m) {
      int32_t j = i + __builtin_ctz(m);
      return j < n ? j : n;
    }
    i += 16;
  }
  return n;
}

/* conda's shape for the value of a top-level key. */
static inline int32_t check_section(int32_t section, int32_t kind) {
  if (section == SECTION_OTHER) return OK;
  if (section == SECTION_REMOVED) return kind != ARRAY ? E_REMOVED_NOT_ARRAY : OK;
  if (kind != OBJECT && !(section == SECTION_INFO && kind == SCALAR_OTHER)) return E_SECTION_NOT_OBJECT;
  return OK;
}

/* A scalar value of `kind` ended at `depth`. */
static inline int32_t value_done(int32_t section, int32_t kind, int32_t depth) {
  if (depth == 1) return check_section(section, kind);
  if (depth == 2 && section == SECTION_RECORDS) return E_RECORD_NOT_OBJECT;
  return OK;
}

/* An object or array opens at `depth`. */
static inline int32_t check_open(int32_t section, int32_t kind, int32_t depth) {
  int32_t r = OK;
  if (depth == 0) {
    if (kind != OBJECT) r = E_NOT_OBJECT;
  } else if (depth == 1) {
    r = check_section(section, kind);
  } else if (depth == 2 && section == SECTION_RECORDS && kind != OBJECT) {
    r = E_RECORD_NOT_OBJECT;
  }
  if (r == OK && depth >= g_max_depth) r = E_DEPTH;
  return r;
}

#define FAIL(code, at) do { r = (code); g_err_at = (at); goto out; } while (0)
#define CHECK(expr, at) do { int32_t e_ = (expr); if (e_ != OK) FAIL(e_, at); } while (0)

/*
 * Check input[start..n). start 0 is a new chunk; after KEY_END the caller resumes at
 * event_at() + 1 (the byte after the key's closing quote). The state is kept in locals here
 * (globals live in linear memory) and written back on the way out.
 */
EXPORT("push") int32_t push(int32_t start, int32_t n) {
  const uint8_t *c = input;
  int32_t i = start, state = g_state, depth = g_depth, r = OK;
  int32_t escape = g_escape, string_is_key = g_string_is_key, collect_key = g_collect_key;
  int32_t section = g_section, key_begin = start == 0 ? 0 : g_key_start;
  double records = g_records;
  while (i < n) {
    if (state == STRING) {
      if (escape) {
        if (!escapes[c[i]]) FAIL(E_ESCAPE, i);
        escape = 0;
        i++;
      }
      int32_t j = scan_string(c, i, n);
      if (j == n) {
        i = n;
        break;
      }
      if (c[j] == '\\') {
        if (collect_key) FAIL(E_ESCAPED_KEY, j);
        if (j + 1 == n) {
          escape = 1;
          i = n;
          break;
        }
        if (!escapes[c[j + 1]]) FAIL(E_ESCAPE, j + 1);
        i = j + 2;
        continue;
      }
      i = j; /* the closing quote */
      if (string_is_key) {
        state = COLON;
        if (collect_key) {
          collect_key = 0;
          g_event_at = i;
          r = KEY_END;
          goto out;
        }
        if (depth == 2 && section == SECTION_RECORDS) records++;
        i++;
        /* Fast path for `"key":"value"` (what the general states below would do). */
        if (i + 1 < n && c[i] == ':') {
          state = VALUE;
          i++;
          if (c[i] == '"') {
            string_is_key = 0;
            state = STRING;
            i++;
          } else if (c[i] >= '0' && c[i] <= '9') {
            g_num = number_steps[c[i]];
            state = NUMBER;
            i++;
          }
        }
        continue;
      }
      CHECK(value_done(section, SCALAR_STRING, depth), i);
      state = AFTER;
      i++;
      /* Fast path for `,"` after a string (the next key, or the next string in an array). */
      if (i + 1 < n && c[i] == ',' && c[i + 1] == '"') {
        if (stack[depth] == OBJECT) {
          string_is_key = 1;
          collect_key = depth == 1;
          if (collect_key) key_begin = i + 2;
        } else {
          string_is_key = 0;
          collect_key = 0;
        }
        state = STRING;
        i += 2;
      }
      continue;
    }
    if (state == NUMBER) {
      int32_t num = g_num, next = 0;
      while (i < n && (next = number_steps[(num << 8) | c[i]]) >= 0) {
        num = next;
        i++;
      }
      g_num = num;
      if (i == n) break;
      if (!number_accepts[num]) FAIL(E_NUMBER, i);
      CHECK(value_done(section, SCALAR_OTHER, depth), i);
      state = AFTER;
      continue; /* the byte after it is read again in the new state */
    }
    int32_t b = c[i];
    if (state == LITERAL) {
      if (g_literal_at < word_lengths[g_literal]) {
        if ((uint8_t)words[g_literal][g_literal_at++] != b) FAIL(E_LITERAL, i);
        i++;
        continue;
      }
      CHECK(value_done(section, SCALAR_OTHER, depth), i);
      state = AFTER;
      continue;
    }
    if (b <= ' ' && (b == ' ' || b == '\n' || b == '\r' || b == '\t')) {
      i++;
      continue;
    }
    switch (state) {
      case AFTER:
        if (b == ',') {
          state = stack[depth] == OBJECT ? KEY : VALUE;
          /* Fast path: the next key right after the comma (what KEY below does). */
          if (state == KEY && i + 1 < n && c[i + 1] == '"') {
            string_is_key = 1;
            collect_key = depth == 1;
            if (collect_key) key_begin = i + 2;
            state = STRING;
            i++;
          }
        } else if (b == '}' || b == ']') {
          if (stack[depth] != (b == '}' ? OBJECT : ARRAY)) FAIL(E_MISMATCH, i);
          depth--;
          state = depth == 0 ? DONE : AFTER;
        } else {
          g_err_byte = b;
          FAIL(E_UNEXPECTED, i);
        }
        break;
      case COLON:
        if (b != ':') FAIL(E_COLON, i);
        state = VALUE;
        break;
      case KEY_OR_CLOSE:
      case KEY:
        if (b == '}' && state == KEY_OR_CLOSE) {
          depth--;
          state = depth == 0 ? DONE : AFTER;
          break;
        }
        if (b != '"') FAIL(E_KEY, i);
        string_is_key = 1;
        collect_key = depth == 1;
        if (collect_key) key_begin = i + 1;
        state = STRING;
        break;
      case VALUE:
      case VALUE_OR_CLOSE:
      case START:
        if (b == ']' && state == VALUE_OR_CLOSE) {
          depth--;
          state = depth == 0 ? DONE : AFTER;
          break;
        }
        if (b == '{' || b == '[') {
          int32_t kind = b == '{' ? OBJECT : ARRAY;
          CHECK(check_open(section, kind, depth), i);
          stack[++depth] = (uint8_t)kind;
          state = kind == OBJECT ? KEY_OR_CLOSE : VALUE_OR_CLOSE;
          break;
        }
        /* a scalar starts */
        if (depth == 0) FAIL(E_NOT_OBJECT, i);
        if (b == '"') {
          string_is_key = 0;
          collect_key = 0;
          state = STRING;
        } else if (b == '-' || (b >= '0' && b <= '9')) {
          g_num = number_step(0, b);
          state = NUMBER;
        } else {
          int32_t literal = b == 't' ? 0 : b == 'f' ? 1 : b == 'n' ? 2 : -1;
          if (literal < 0) {
            g_err_byte = b;
            FAIL(E_UNEXPECTED, i);
          }
          g_literal = literal;
          g_literal_at = 1;
          state = LITERAL;
        }
        break;
      case DONE:
        FAIL(E_AFTER_END, i);
      default:
        FAIL(E_UNEXPECTED, i);
    }
    i++;
  }
out:
  g_state = state;
  g_depth = depth;
  g_escape = escape;
  g_string_is_key = string_is_key;
  g_collect_key = collect_key;
  g_key_start = key_begin;
  g_records = records;
  return r;
}

/* After the last chunk: OK, or why the body is incomplete (`any`: some bytes were pushed). */
EXPORT("finish") int32_t finish(int32_t any) {
  int32_t r = OK;
  g_err_at = 0;
  if (g_state == NUMBER) {
    if (!number_accepts[g_num]) return E_NUMBER;
    r = value_done(g_section, SCALAR_OTHER, g_depth);
    if (r != OK) return r;
    g_state = AFTER;
  } else if (g_state == LITERAL) {
    if (g_literal_at != word_lengths[g_literal]) return E_LITERAL;
    r = value_done(g_section, SCALAR_OTHER, g_depth);
    if (r != OK) return r;
    g_state = AFTER;
  }
  if (g_state != DONE) return any ? E_ENDS_EARLY : E_EMPTY;
  return OK;
}
