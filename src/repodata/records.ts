/**
 * The records side of a fetchRepodata result: nothing is parsed until asked. `records()` (and
 * the `repodata` property) parse the whole cached file once; `recordsFor(names)` reads only the
 * records of those packages (sparse.ts); `recordCount()` counts without building anything.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { CacheError } from '../errors/classes.js';
import { createShapeValidator } from './json-shape-wasm.js';
import { sparseRecords } from './sparse.js';
import type { FetchRepodataResult, Repodata } from './types.js';

/** Parse index bytes; anything but one JSON object is an error. */
function parseObject(text: string): Repodata {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SyntaxError('not a JSON object');
  return value as Repodata;
}

/** A cache file that does not parse: conda's "An error occurred when loading cached repodata". */
export function cachedParseError(path: string, url: string, cause: unknown): CacheError {
  return new CacheError(
    'An error occurred when loading cached repodata.  Executing\n`conda clean --index-cache` will remove cached repodata files\n' +
      `so they can be downloaded again.\n  path: ${path}`,
    { code: 'CG_REPODATA_INVALID', url, cause, hint: `Remove ${path} (or run \`conda clean --index-cache\`) and fetch again.` });
}

type Base = Omit<FetchRepodataResult, 'repodata' | 'records' | 'recordsFor' | 'recordCount'>;

function onlyNames(repodata: Repodata, names: readonly string[]): Repodata {
  const wanted = new Set(names.map((n) => n.trim().toLowerCase()));
  const pick = (group: Repodata['packages']) =>
    Object.fromEntries(Object.entries(group ?? {}).filter(([, r]) => typeof r?.name === 'string' && wanted.has(r.name)));
  const out: Repodata = { packages: pick(repodata.packages), 'packages.conda': pick(repodata['packages.conda']) };
  if (repodata.info) out.info = repodata.info;
  if (repodata.repodata_version !== undefined) out.repodata_version = repodata.repodata_version;
  return out;
}

function countOf(repodata: Repodata): number {
  return Object.keys(repodata.packages ?? {}).length + Object.keys(repodata['packages.conda'] ?? {}).length;
}

/** A result whose index is already in memory (a sharded subset, `{}`). */
export function memoryResult(base: Base, repodata: Repodata): FetchRepodataResult {
  return {
    ...base, repodata,
    records: () => Promise.resolve(repodata),
    recordsFor: (names) => Promise.resolve(onlyNames(repodata, names)),
    recordCount: () => Promise.resolve(countOf(repodata)),
  };
}

/**
 * A result whose index is the file at `path` (validated when it was written). `count` is the
 * record count when already known (from the validator on the way in).
 */
export function fileResult(base: Base, path: string, url: string, count?: number): FetchRepodataResult {
  let parsed: Repodata | undefined;
  const fail = (err: unknown): never => {
    throw cachedParseError(path, url, err);
  };
  const result = {
    ...base,
    async records(): Promise<Repodata> {
      if (!parsed) {
        const text = await readFile(path, 'utf8');
        try {
          parsed = parseObject(text);
        } catch (err) {
          fail(err);
        }
      }
      return parsed!;
    },
    async recordsFor(names: readonly string[]): Promise<Repodata> {
      if (parsed) return onlyNames(parsed, names);
      try {
        return await sparseRecords(path, names);
      } catch (err) {
        return fail(err);
      }
    },
    async recordCount(): Promise<number> {
      if (parsed) return countOf(parsed);
      if (count !== undefined) return count;
      const validator = createShapeValidator();
      try {
        for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) validator.push(chunk as Buffer);
        count = validator.end().records;
      } catch (err) {
        fail(err);
      }
      return count!;
    },
  } as FetchRepodataResult;
  // The whole index on first use of `repodata` (synchronous: prefer `await records()`).
  Object.defineProperty(result, 'repodata', {
    enumerable: true, configurable: true,
    get(): Repodata {
      if (!parsed) {
        try {
          parsed = parseObject(readFileSync(path, 'utf8'));
        } catch (err) {
          fail(err);
        }
      }
      return parsed!;
    },
  });
  return result;
}
