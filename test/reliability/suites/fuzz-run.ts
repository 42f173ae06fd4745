/**
 * Runs one fuzz target with fast-check and counts outcomes: returned, typed GatewayError,
 * anything else (a defect), secret leaks in error text, and the slowest case (a hang shows
 * here, or as the test timing out). Every case runs: failures are recorded, not thrown.
 */
import fc from 'fast-check';
import { isGatewayError } from '../../../src/index.js';
import { findLeak, printedForms } from './secrets.js';

export interface FuzzTarget<T = unknown> {
  name: string;
  arbitrary: fc.Arbitrary<T>;
  run: (input: T) => unknown;
  /** Non-GatewayError throws that are this function's documented contract (e.g. an internal error its callers map). */
  allow?: (err: unknown) => boolean;
  /** A defect found and reported in a module this suite may not edit: the quick test marks the target todo until it is fixed. */
  knownDefect?: string;
  /** Extra property on the result; return a message when it fails. */
  check?: (input: T, result: unknown) => string | undefined;
}

export interface FuzzCounts {
  name: string;
  cases: number;
  returned: number;
  typed: number;
  allowed: number;
  defects: number;
  leaks: number;
  slowestMs: number;
  examples: string[];
}

/** A parser taking longer than this on one small input is a denial-of-service risk. */
const HANG_MS = 1000;

function show(input: unknown): string {
  try {
    const text = typeof input === 'string' ? JSON.stringify(input) : fc.stringify(input);
    return text.length > 300 ? `${text.slice(0, 300)}…` : text;
  } catch {
    return String(input);
  }
}

export async function fuzz<T>(target: FuzzTarget<T>, numRuns: number, seed: number): Promise<FuzzCounts> {
  const counts: FuzzCounts = { name: target.name, cases: 0, returned: 0, typed: 0, allowed: 0, defects: 0, leaks: 0, slowestMs: 0, examples: [] };
  const note = (kind: string, input: unknown, detail: string): void => {
    if (counts.examples.length < 5) counts.examples.push(`${kind}: input ${show(input)} → ${detail.slice(0, 300)}`);
  };
  await fc.assert(fc.asyncProperty(target.arbitrary, async (input) => {
    counts.cases++;
    const started = performance.now();
    try {
      const result = await target.run(input);
      counts.returned++;
      const problem = target.check?.(input, result);
      if (problem) {
        counts.defects++;
        note('property', input, problem);
      }
    } catch (err) {
      if (isGatewayError(err)) {
        counts.typed++;
        for (const text of Object.values(printedForms(err))) {
          const leak = findLeak(text);
          if (leak) {
            counts.leaks++;
            note('leak', input, leak);
            break;
          }
        }
      } else if (target.allow?.(err)) {
        counts.allowed++;
      } else {
        counts.defects++;
        note('untyped', input, err instanceof Error ? `${err.name}: ${err.message}` : String(err));
      }
    }
    const ms = performance.now() - started;
    if (ms > counts.slowestMs) counts.slowestMs = ms;
    if (ms > HANG_MS) {
      counts.defects++;
      note('slow', input, `${Math.round(ms)} ms`);
    }
    return true;
  }), { numRuns, seed, endOnFailure: true });
  return counts;
}

export function fuzzLine(c: FuzzCounts): string {
  return `fuzz ${c.name}: ${c.cases} cases, ${c.returned} returned, ${c.typed} typed GatewayErrors` +
    `${c.allowed ? `, ${c.allowed} documented internal errors` : ''}, ${c.defects} untyped/crash/hang, ${c.leaks} leaks, ` +
    `slowest ${c.slowestMs.toFixed(1)} ms`;
}
