/**
 * A YAML document as plain values plus the line each mapping and list starts on, from
 * js-yaml's event stream (the values come from the same events, so both agree). Aliases
 * share their anchored value instead of copying it; a document whose aliases would expand
 * past a limit is refused all the same, so no caller walking the values can blow up.
 */
import type { Event } from 'js-yaml';

type JsYaml = typeof import('js-yaml');

export interface LinedValue {
  readonly value: unknown;
  /** 1-based start line of every mapping and list in `value`. */
  readonly lines: WeakMap<object, number>;
  /** 1-based line of each top-level key (scalars have no identity to key a WeakMap by). */
  readonly rootKeyLines: Map<string, number>;
  readonly aliases: number;
}

/** 1-based line of an offset, by binary search over the line starts (built on first use). */
export function lineIndex(text: string, firstLine = 1): (offset: number) => number {
  let starts: number[] | undefined;
  return (offset) => {
    if (!starts) {
      starts = [0];
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
    }
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + firstLine;
  };
}

interface Frame {
  kind: 'doc' | 'map' | 'seq';
  obj: unknown;
  index: number;
  expectingKey: boolean;
  key: string | undefined;
}

/** Parse `text` (lines counted from `firstLine`) into values and start lines. */
export function parseWithLines(Y: JsYaml, text: string, firstLine: number, limits: { maxDepth: number; maxAliases: number }): LinedValue {
  const events = Y.parseEvents(text, { maxDepth: limits.maxDepth });
  const value = Y.constructFromEvents(events, { source: text, json: true, maxAliases: limits.maxAliases })[0] ?? null;
  const lines = new WeakMap<object, number>();
  const rootKeyLines = new Map<string, number>();
  const lineAt = lineIndex(text, firstLine);
  const stack: Frame[] = [];
  let aliases = 0;
  let documents = 0;

  /** The constructed value for the node an event opens or is, advancing its parent. */
  const take = (frame: Frame | undefined): unknown => {
    if (!frame) return undefined;
    if (frame.kind === 'doc') return documents === 1 ? value : undefined;
    if (frame.kind === 'seq') return (frame.obj as unknown[] | undefined)?.[frame.index++];
    if (frame.expectingKey) {
      frame.expectingKey = false;
      frame.key = undefined; // a complex key: its subtree has no value to pair with
      return undefined;
    }
    frame.expectingKey = true;
    const obj = frame.obj as Record<string, unknown> | undefined;
    return frame.key !== undefined && obj && Object.hasOwn(obj, frame.key) ? obj[frame.key] : undefined;
  };

  for (const ev of events as Event[]) {
    const top = stack.at(-1);
    switch (ev.type) {
      case Y.EVENT_DOCUMENT:
        documents++;
        stack.push({ kind: 'doc', obj: undefined, index: 0, expectingKey: false, key: undefined });
        break;
      case Y.EVENT_MAPPING:
      case Y.EVENT_SEQUENCE: {
        const node = take(top);
        const obj = typeof node === 'object' && node !== null ? node : undefined;
        if (obj) lines.set(obj, lineAt(ev.start));
        stack.push({ kind: ev.type === Y.EVENT_MAPPING ? 'map' : 'seq', obj, index: 0, expectingKey: true, key: undefined });
        break;
      }
      case Y.EVENT_SCALAR:
        if (top?.kind === 'map' && top.expectingKey) {
          top.key = Y.getScalarValue(text, ev);
          top.expectingKey = false;
          if (stack.length === 2 && documents === 1 && !rootKeyLines.has(top.key)) rootKeyLines.set(top.key, lineAt(ev.valueStart));
        } else {
          take(top);
        }
        break;
      case Y.EVENT_ALIAS:
        aliases++;
        if (top?.kind === 'map' && top.expectingKey) {
          top.key = undefined;
          top.expectingKey = false;
        } else {
          take(top);
        }
        break;
      case Y.EVENT_POP:
        stack.pop();
        break;
      default:
        break;
    }
  }
  return { value, lines, rootKeyLines, aliases };
}

/**
 * Nodes the value would have with every shared (aliased) value copied out, counted
 * without copying: each distinct object once, memoized, iteratively (no deep recursion).
 * Stops counting once past `limit`.
 */
export function expandedSize(root: unknown, limit: number): number {
  const sizes = new Map<object, number>();
  const stack: Array<{ obj: object; done: boolean }> = [];
  const childrenOf = (o: object): unknown[] => (Array.isArray(o) ? o : Object.values(o));
  if (typeof root !== 'object' || root === null) return 1;
  // Objects whose count is under way: meeting one again means a value contains itself.
  const inProgress = new Set<object>();
  stack.push({ obj: root, done: false });
  while (stack.length) {
    const top = stack.pop()!;
    if (sizes.has(top.obj)) continue;
    const children = childrenOf(top.obj);
    if (!top.done) {
      if (inProgress.has(top.obj)) return Infinity;
      inProgress.add(top.obj);
      stack.push({ obj: top.obj, done: true });
      for (const c of children) if (typeof c === 'object' && c !== null && !sizes.has(c)) stack.push({ obj: c, done: false });
      continue;
    }
    inProgress.delete(top.obj);
    let total = 1;
    for (const c of children) total += typeof c === 'object' && c !== null ? sizes.get(c) ?? 0 : 1;
    sizes.set(top.obj, Math.min(total, limit + 1));
    if (total > limit) return total;
  }
  return sizes.get(root) ?? 1;
}
