/**
 * Everything the CLI prints can carry outside text (file names, URLs, server messages,
 * error messages): an ESC or CR in it could clear the screen, move the cursor or forge
 * lines. Control characters are shown as `\uXXXX`, which keeps JSON output valid JSON (the
 * same escape JSON uses) and makes the character visible to people. Newlines and tabs in
 * whole output chunks are ours; in single values (`escapeControls`) they are escaped too.
 */
import type { CliIo } from './io.js';

// C0 (but \t and \n), DEL, C1, and the Unicode line/paragraph separators and bidi overrides.
// eslint-disable-next-line no-control-regex
const IN_OUTPUT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const IN_VALUE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const escape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** One value on one line: every control character escaped, newlines included. */
export function escapeControls(text: string): string {
  return text.replace(IN_VALUE, escape);
}

/** A whole output chunk: control characters escaped, our own newlines and tabs kept. */
export function escapeOutput(text: string): string {
  return text.replace(IN_OUTPUT, escape);
}

type Stream = CliIo['stdout'];

function escapingStream<S extends Stream>(stream: S): S {
  return new Proxy(stream, {
    get(target, prop, receiver) {
      if (prop === 'write') {
        return (chunk: unknown, ...rest: unknown[]) => {
          const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
          return (target.write as (c: string, ...r: unknown[]) => boolean)(escapeOutput(text), ...rest);
        };
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * The same io with stdout and stderr escaping control characters. Progress bars draw with
 * ANSI sequences of their own through `rawStderr`, and escape their labels themselves.
 */
export function escapingIo(io: CliIo): CliIo {
  if (io.rawStderr) return io;
  return { ...io, stdout: escapingStream(io.stdout), stderr: escapingStream(io.stderr), rawStderr: io.stderr };
}
