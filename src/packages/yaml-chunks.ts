/**
 * Large lock files as pixi and conda-lock write them: a top-level mapping whose big lists
 * (`packages:`, `package:`) hold one item per `- ` line at column 0. Such a file is cut
 * into its top-level sections and list items by a scan of column-0 lines, so each item is
 * parsed on its own, used, and dropped: memory stays near the size of the text, not of
 * its document tree. Anything this scan does not understand for certain (anchors, flow or
 * multi-document syntax, unusual keys at column 0) returns undefined, and the caller
 * parses the whole document instead.
 */

export interface Chunk {
  /** Offsets into the text. */
  readonly start: number;
  readonly end: number;
  /** 1-based line of `start`. */
  readonly line: number;
}

export interface Section {
  readonly key: string;
  readonly line: number;
  /** The section's own text (`key: value` or `key:` with nested lines), when not a list. */
  readonly body?: Chunk;
  /** Items of a top-level block list written at column 0 (`key:` then `- ` lines). */
  readonly items?: Chunk[];
}

// A plain top-level key as lock files write them, followed by ':' and a space or the line end.
const ROOT_KEY = /^([A-Za-z_][A-Za-z0-9_.-]*):(?: |\r?\n|$)/;
// Anchors anywhere: items could refer across chunks, so such files are parsed whole.
const ANCHOR = /(?:^|[\s,[{:-])&[^\s,[\]{}]/;

/** Files below this size are parsed whole (fast enough, and the exact path is simplest). */
export const CHUNK_MIN_BYTES = 1 << 20;

export function splitTopLevel(text: string): Section[] | undefined {
  if (text.length < CHUNK_MIN_BYTES || ANCHOR.test(text)) return undefined;
  const sections: Array<{ key: string; line: number; start: number; bodyEnd: number; bare: boolean; nested: boolean; items: Chunk[] }> = [];
  let lineNo = 0;
  let itemStart = -1;
  let itemLine = 0;
  const closeItem = (end: number): void => {
    const current = sections.at(-1);
    if (itemStart >= 0 && current) current.items.push({ start: itemStart, end, line: itemLine });
    itemStart = -1;
  };
  for (let pos = 0; pos < text.length;) {
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl + 1;
    lineNo++;
    const c = text.charCodeAt(pos);
    if (c === 0x20) {
      // An indented line belongs to the current chunk; before any item it is the section's body.
      const current = sections.at(-1);
      if (current && itemStart < 0 && !/^\s*(#.*)?$/.test(text.slice(pos, end))) current.nested = true;
    } else if (c !== 0x0a && c !== 0x0d && c !== 0x23) {
      // Lines starting with a newline or '#' (comments) belong to the current chunk.
      if (c === 0x2d && (text.charCodeAt(pos + 1) === 0x20 || text.charCodeAt(pos + 1) === 0x0a || text.charCodeAt(pos + 1) === 0x0d)) {
        const current = sections.at(-1);
        // A '- ' item at column 0 is only understood directly under a bare `key:` line with nothing nested.
        if (!current || !current.bare || (current.nested && current.items.length === 0 && itemStart < 0)) return undefined;
        closeItem(pos);
        itemStart = pos;
        itemLine = lineNo;
      } else {
        const m = ROOT_KEY.exec(text.slice(pos, Math.min(end, pos + 200)));
        if (!m) return undefined;
        closeItem(pos);
        const previous = sections.at(-1);
        if (previous && previous.items.length === 0) previous.bodyEnd = pos;
        const bare = /^\s*(#.*)?$/.test(text.slice(pos + m[0].length, end));
        sections.push({ key: m[1]!, line: lineNo, start: pos, bodyEnd: -1, bare, nested: false, items: [] });
      }
    }
    pos = end;
  }
  closeItem(text.length);
  const last = sections.at(-1);
  if (last && last.items.length === 0) last.bodyEnd = text.length;
  return sections.map((s) => (s.items.length
    ? { key: s.key, line: s.line, items: s.items }
    : { key: s.key, line: s.line, body: { start: s.start, end: s.bodyEnd, line: s.line } }));
}
