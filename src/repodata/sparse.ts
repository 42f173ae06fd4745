/**
 * The records of named packages from a cached repodata.json without parsing it whole (as
 * rattler's sparse index does): the file is read in chunks and searched natively
 * (Buffer#indexOf) for record keys ending `.conda"` or `.tar.bz2"` followed by `:` and `{`; a key
 * whose package name (`<name>-<version>-<build>`) is wanted has its record cut out and parsed,
 * kept when the record's `name` agrees. Memory is one chunk plus the records found. Relies on
 * conda's file names as record keys, which every conda index uses.
 */
import { open } from 'node:fs/promises';
import type { Repodata, RepodataRecord } from './types.js';

const CHUNK = 8 << 20;
const Q = 0x22;
const BS = 0x5c;

function isSpace(b: number | undefined): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/** Index just past the object that starts at `start` (a `{`), or -1 when it does not end in `buf`. */
function objectEnd(buf: Buffer, start: number): number {
  let depth = 0;
  for (let i = start; i < buf.length; i++) {
    const b = buf[i];
    if (b === Q) {
      for (i++; i < buf.length; i++) {
        const c = buf[i];
        if (c === BS) i++;
        else if (c === Q) break;
      }
    } else if (b === 0x7b || b === 0x5b) {
      depth++;
    } else if (b === 0x7d || b === 0x5d) {
      if (--depth === 0) return i + 1;
    }
  }
  return -1;
}

/** A candidate that is not a record (text inside a string that only looks like one) is skipped. */
function parseOrUndefined(text: string): RepodataRecord | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as RepodataRecord) : undefined;
  } catch {
    return undefined;
  }
}

interface Found {
  fn: string;
  record: RepodataRecord;
}

/** conda's package file extensions: every record key ends in one, then `"`. */
const KEY_ENDS = [Buffer.from('.conda"'), Buffer.from('.tar.bz2"')];

/** `numpy-base-1.26.4-py312h0_0.conda` → `numpy-base` (the name is all before the last two dashes). */
function nameOfFile(fn: string): string {
  const build = fn.lastIndexOf('-');
  const version = build > 0 ? fn.lastIndexOf('-', build - 1) : -1;
  return version > 0 ? fn.slice(0, version) : '';
}

/**
 * Scan `buf` for record keys (one native search per file extension), keep the records whose
 * file name starts with a wanted name; returns the offset before which the buffer is done (a
 * record cut by the chunk's end is left for the next chunk).
 */
function scanChunk(buf: Buffer, wanted: ReadonlySet<string>, last: boolean, out: Found[]): number {
  // A key cut by the chunk's end (keys are at most 512 bytes) is found again in the next chunk.
  let done = Math.max(0, buf.length - 1024);
  for (const end of KEY_ENDS) {
    for (let at = buf.indexOf(end); at !== -1; at = buf.indexOf(end, at + end.length)) {
      const close = at + end.length - 1;
      const open = buf.lastIndexOf(Q, at - 1);
      if (open === -1 || at - open > 512) continue;
      let i = close + 1;
      while (isSpace(buf[i])) i++;
      if (i >= buf.length) {
        if (!last) done = Math.min(done, open);
        continue;
      }
      if (buf[i] !== 0x3a) continue;
      i++;
      while (isSpace(buf[i])) i++;
      if (i >= buf.length) {
        if (!last) done = Math.min(done, open);
        continue;
      }
      if (buf[i] !== 0x7b) continue;
      // latin1 is the cheap decoding for the test (package names are ASCII); utf8 for a match.
      const name = nameOfFile(buf.toString('latin1', open + 1, close));
      if (!wanted.has(name)) continue;
      const fn = buf.toString('utf8', open + 1, close);
      const recordEnd = objectEnd(buf, i);
      if (recordEnd === -1) {
        if (!last) done = Math.min(done, open);
        continue;
      }
      const record = open > 0 && buf[open - 1] === BS ? undefined : parseOrUndefined(buf.toString('utf8', i, recordEnd));
      if (record?.name === name) out.push({ fn, record });
    }
  }
  return last ? buf.length : done;
}

/** `info` and `repodata_version` from the head and tail of the file (small reads). */
async function frame(handle: import('node:fs/promises').FileHandle, size: number): Promise<Pick<Repodata, 'info' | 'repodata_version'>> {
  const out: Pick<Repodata, 'info' | 'repodata_version'> = {};
  const head = Buffer.alloc(Math.min(size, 1 << 16));
  await handle.read(head, 0, head.length, 0);
  const infoAt = head.indexOf('"info"');
  if (infoAt !== -1) {
    const brace = head.indexOf(0x7b, infoAt);
    const end = brace === -1 ? -1 : objectEnd(head, brace);
    if (end !== -1) {
      try {
        out.info = JSON.parse(head.toString('utf8', brace, end)) as Repodata['info'];
      } catch { /* not the top-level info: leave it out */ }
    }
  }
  const tail = Buffer.alloc(Math.min(size, 4096));
  await handle.read(tail, 0, tail.length, size - tail.length);
  const version = /"repodata_version"\s*:\s*(\d+)/.exec(tail.toString('latin1'));
  if (version) out.repodata_version = Number(version[1]);
  return out;
}

/** `{ info, packages, packages.conda, repodata_version }` holding only the records named `names`. */
export async function sparseRecords(path: string, names: readonly string[]): Promise<Repodata> {
  const wanted = new Set(names.map((n) => n.trim().toLowerCase()).filter(Boolean));
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const result: Repodata = { ...(await frame(handle, size)), packages: {}, 'packages.conda': {} };
    let carry = Buffer.alloc(0);
    let position = 0;
    const chunk = Buffer.allocUnsafe(CHUNK);
    while (position < size || carry.length > 0) {
      const { bytesRead } = await handle.read(chunk, 0, CHUNK, position);
      position += bytesRead;
      const last = bytesRead === 0 || position >= size;
      const buf = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      const found: Found[] = [];
      const keepFrom = scanChunk(buf, wanted, last, found);
      for (const { fn, record } of found) {
        const group = fn.endsWith('.conda') ? 'packages.conda' : 'packages';
        result[group]![fn] = record;
      }
      if (last) break;
      // A copy: `chunk` is reused by the next read.
      carry = Buffer.from(buf.subarray(keepFrom));
    }
    return result;
  } finally {
    await handle.close();
  }
}
