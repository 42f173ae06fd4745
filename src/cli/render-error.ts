/**
 * The one place errors are formatted for people: `<ErrorClass>: <message>`, a hint line,
 * the cause chain with --verbose, or a JSON object with --json. Exit status from codes.ts.
 */
import { ERROR_CODES } from '../errors/codes.js';
import { GatewayError, isGatewayError } from '../errors/gateway-error.js';
import { redactText } from '../redact/redact-text.js';
import type { CliIo } from './io.js';
import { escapeControls } from './safe-text.js';

export function exitCodeFor(err: unknown): number {
  // Anything else escaping a command is a bug (EX_SOFTWARE), as CG_INTERNAL says.
  return ERROR_CODES[isGatewayError(err) ? err.code : 'CG_INTERNAL'].exitCode;
}

export function renderError(io: CliIo, err: unknown, opts: { json?: boolean; verbose?: boolean } = {}): number {
  const code = exitCodeFor(err);
  if (opts.json) {
    const payload = isGatewayError(err)
      ? { ok: false, ...err.toJSON() }
      : { ok: false, error: 'Error', code: 'CG_INTERNAL', family: ERROR_CODES.CG_INTERNAL.family, message: redactText(err instanceof Error ? err.message : String(err)) };
    io.stdout.write(`${JSON.stringify(payload)}\n`);
    return code;
  }
  if (isGatewayError(err)) {
    // Config and spec errors are one line each that quote outside values (file names, lock-file
    // keys): a newline in them is the value's, escaped so it cannot forge a line.
    const oneLine = ERROR_CODES[err.code].family === 'config';
    const show = (text: string): string => (oneLine ? escapeControls(text) : text);
    io.stderr.write(`\n${err.name}: ${show(err.message.trimEnd())}\n`);
    if (err.hint) io.stderr.write(`hint: ${show(err.hint)}\n`);
    if (opts.verbose) writeCauses(io, err);
    io.stderr.write('\n');
  } else {
    const text = err instanceof Error ? (opts.verbose ? err.stack ?? err.message : err.message) : String(err);
    io.stderr.write(`\nUnexpected error: ${redactText(text)}\n\n`);
  }
  return code;
}

function writeCauses(io: CliIo, err: GatewayError): void {
  let cause: unknown = err.cause;
  for (let depth = 0; cause instanceof Error && depth < 5; depth++) {
    const code = (cause as { code?: unknown }).code;
    io.stderr.write(`caused by: ${cause.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${redactText(cause.message)}\n`);
    cause = cause.cause;
  }
}
