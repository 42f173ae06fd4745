/** Errors about spec and lock files, always naming the file and, when known, the line. */
import { ConfigError } from '../errors/classes.js';
import type { SpecOrigin } from './types.js';

export function where(origin: SpecOrigin): string {
  return origin.line === undefined ? origin.file : `${origin.file}:${origin.line}`;
}

export function specError(origin: SpecOrigin, message: string, hint?: string): ConfigError {
  return new ConfigError(`${where(origin)}: ${message}`, {
    code: 'CG_SPEC_INVALID',
    hint,
    details: { file: origin.file, line: origin.line },
  });
}
