/**
 * A `.conda` (zip) read front to back, as its bytes arrive: local file headers in order,
 * each member's data handed on or skipped, then the central directory, which must agree
 * with what was streamed (same names, offsets, sizes and methods; no name twice; exactly
 * the two inner tarballs conda expects) before the archive is accepted. Layouts this
 * reader does not handle (data descriptors, zip64, encryption, compressed inner tarballs,
 * non-ASCII names without the UTF-8 flag, bytes before the first header) fail with StreamUnsupportedError, so the
 * caller extracts from the finished file instead.
 */
import { Readable } from 'node:stream';

/** The streamed path cannot read this (valid or not): fall back to the file. */
export class StreamUnsupportedError extends Error {}

const LOCAL = 0x04034b50;
const CENTRAL = 0x02014b50;
const END = 0x06054b50;
const U32_MAX = 0xffffffff;
/** Bit 0: encrypted; bit 3: sizes in a trailing data descriptor; bit 11: UTF-8 name. */
const FLAG_ENCRYPTED = 0x1;
const FLAG_DESCRIPTOR = 0x8;
const FLAG_UTF8 = 0x800;

interface Member {
  name: string;
  offset: number;
  method: number;
  compressedSize: number;
  size: number;
}

/** Exact reads over an async byte source; `offset` counts the bytes taken. */
class ByteReader {
  readonly #it: AsyncIterator<Buffer>;
  #buf: Buffer = Buffer.alloc(0);
  offset = 0;

  constructor(source: AsyncIterable<Buffer>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  async #fill(): Promise<boolean> {
    const r = await this.#it.next();
    if (r.done) return false;
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, r.value]) : r.value;
    return true;
  }

  async exact(n: number): Promise<Buffer> {
    while (this.#buf.length < n) if (!(await this.#fill())) throw new Error(`the zip ends early (at byte ${this.offset + this.#buf.length})`);
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    this.offset += n;
    return out;
  }

  /** The next `n` bytes, as they come. */
  async *take(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (!this.#buf.length && !(await this.#fill())) throw new Error(`the zip ends early (at byte ${this.offset})`);
      const piece = this.#buf.subarray(0, Math.min(left, this.#buf.length));
      this.#buf = this.#buf.subarray(piece.length);
      this.offset += piece.length;
      left -= piece.length;
      yield piece;
    }
  }

  async skipTo(end: number): Promise<void> {
    for await (const _ of this.take(end - this.offset)) { /* skipped */ }
  }

  async atEnd(): Promise<boolean> {
    return this.#buf.length === 0 && !(await this.#fill());
  }
}

export interface ZipStreamHandlers {
  /** Names of the members to hand on (the inner tarballs); every other member is skipped. */
  wanted: ReadonlySet<string>;
  /** A wanted member's (decompressed) bytes; resolve when consumed. */
  member: (name: string, data: Readable) => Promise<void>;
  /** A refusal (duplicate name, central directory disagreeing, a member missing). */
  corrupt: (message: string, entry?: string) => Error;
}

/** Read the whole zip from `source`; resolves once the central directory matched the streamed members. */
export async function streamZip(source: AsyncIterable<Buffer>, h: ZipStreamHandlers): Promise<void> {
  const r = new ByteReader(source);
  const members: Member[] = [];
  const seen = new Set<string>();
  let signature = (await r.exact(4)).readUInt32LE(0);
  if (signature !== LOCAL) throw new StreamUnsupportedError('the zip does not start with a local file header');
  while (signature === LOCAL) {
    const member = await localHeader(r, r.offset - 4);
    if (seen.has(member.name)) throw h.corrupt(`the zip holds '${member.name}' twice`, member.name);
    seen.add(member.name);
    members.push(member);
    const end = r.offset + member.compressedSize;
    if (h.wanted.has(member.name)) {
      if (member.method !== 0) throw new StreamUnsupportedError(`a compressed inner tarball (method ${member.method})`);
      if (member.compressedSize !== member.size) throw h.corrupt(`'${member.name}' is stored with two different sizes`, member.name);
      await h.member(member.name, Readable.from(r.take(member.compressedSize), { objectMode: false }));
    }
    await r.skipTo(end);
    signature = (await r.exact(4)).readUInt32LE(0);
  }
  if (signature !== CENTRAL) throw new StreamUnsupportedError(`unexpected zip record 0x${signature.toString(16)} after the members`);
  const centralStart = r.offset - 4;
  for (let i = 0; signature === CENTRAL; i++) {
    checkCentral(await centralHeader(r), members[i], h);
    signature = (await r.exact(4)).readUInt32LE(0);
  }
  if (signature !== END) throw new StreamUnsupportedError(`unexpected zip record 0x${signature.toString(16)} after the central directory`);
  await endRecord(r, members.length, centralStart, h);
  for (const name of h.wanted) if (!seen.has(name)) throw h.corrupt(`the .conda file has no ${name}`, name);
}

function decodeName(bytes: Buffer, flags: number): string {
  if (!(flags & FLAG_UTF8) && bytes.some((b) => b >= 0x80)) throw new StreamUnsupportedError('a CP437 member name');
  return bytes.toString('utf8');
}

async function localHeader(r: ByteReader, offset: number): Promise<Member> {
  const b = await r.exact(26);
  const flags = b.readUInt16LE(2);
  const method = b.readUInt16LE(4);
  const compressedSize = b.readUInt32LE(14);
  const size = b.readUInt32LE(18);
  const name = decodeName(await r.exact(b.readUInt16LE(22)), flags);
  await r.exact(b.readUInt16LE(24));
  if (flags & (FLAG_ENCRYPTED | FLAG_DESCRIPTOR)) throw new StreamUnsupportedError('an encrypted member or one with a data descriptor');
  if (compressedSize === U32_MAX || size === U32_MAX) throw new StreamUnsupportedError('a zip64 member');
  return { name, offset, method, compressedSize, size };
}

async function centralHeader(r: ByteReader): Promise<Member> {
  const b = await r.exact(42);
  const flags = b.readUInt16LE(4);
  const name = decodeName(await r.exact(b.readUInt16LE(24)), flags);
  await r.exact(b.readUInt16LE(26) + b.readUInt16LE(28));
  return { name, method: b.readUInt16LE(6), compressedSize: b.readUInt32LE(16), size: b.readUInt32LE(20), offset: b.readUInt32LE(38) };
}

/** The central directory's entry i must describe the i-th streamed member exactly. */
function checkCentral(c: Member, local: Member | undefined, h: ZipStreamHandlers): void {
  if (!local) throw h.corrupt(`the zip's central directory lists '${c.name}', which is not among its members`, c.name);
  if (c.name !== local.name || c.offset !== local.offset || c.method !== local.method
    || c.compressedSize !== local.compressedSize || c.size !== local.size) {
    throw h.corrupt(`the zip's central directory entry '${c.name}' does not match the member '${local.name}' at offset ${local.offset}`, c.name);
  }
}

async function endRecord(r: ByteReader, count: number, centralStart: number, h: ZipStreamHandlers): Promise<void> {
  const centralSize = r.offset - 4 - centralStart;
  const b = await r.exact(18);
  const entries = b.readUInt16LE(6);
  if (b.readUInt16LE(0) !== 0 || b.readUInt16LE(2) !== 0 || b.readUInt16LE(4) !== entries) throw new StreamUnsupportedError('a multi-disk zip');
  if (entries === 0xffff || b.readUInt32LE(12) === U32_MAX) throw new StreamUnsupportedError('a zip64 archive');
  if (entries !== count || b.readUInt32LE(8) !== centralSize || b.readUInt32LE(12) !== centralStart) {
    throw h.corrupt(`the zip's end record (${entries} entries) does not match its ${count} members`);
  }
  await r.exact(b.readUInt16LE(16));
  if (!(await r.atEnd())) throw h.corrupt('bytes follow the zip\'s end record');
}
