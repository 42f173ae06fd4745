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

/** A value from a spec file as an error may quote it: scalars as JSON (cut short), containers by kind only. */
export function shortValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'a mapping';
  const text = JSON.stringify(value ?? null) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
