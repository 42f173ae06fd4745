/**
 * YAML lock files with line numbers, for errors that name file and line. Parsed with
 * js-yaml (loaded on first use, so the CLI's start-up stays light) from its event stream:
 * a large lock file is cut into its top-level list items (yaml-chunks.ts), each parsed
 * when the caller reaches it, so a 100k-package pixi.lock never exists as one tree.
 * Aliases resolve to their anchored value (`hash: *h` is the hash), within bounds.
 */
import { specError } from './spec-error.js';
import { splitTopLevel, type Chunk } from './yaml-chunks.js';
import { expandedSize, parseWithLines, type LinedValue } from './yaml-lines.js';

type JsYaml = typeof import('js-yaml');

export interface YamlSource {
  readonly file: string;
  readonly root: unknown;
  /** 1-based line where a mapping or list starts (undefined for scalars). */
  lineOf(node: unknown): number | undefined;
  /** 1-based line of a top-level key. */
  rootKeyLine(key: string): number | undefined;
  /** A child of a mapping (undefined when absent or not a mapping). */
  child(node: unknown, key: string): unknown;
  /** Items of a list ([] when not a list). */
  items(node: unknown): unknown[];
  /** Entries of a mapping. */
  entries(node: unknown): Array<[string, unknown]>;
  isMap(node: unknown): boolean;
  isSeq(node: unknown): boolean;
  /** The plain value of a node (items of a large list are parsed here). */
  toJs(node: unknown): unknown;
}

/** Aliases one document may hold (js-yaml's maxAliases). */
export const MAX_ALIAS_COUNT = 1000;
/** Nodes a document may have with its aliases expanded, beyond its own. */
export const MAX_ALIAS_EXPANSION = 1_000_000;
/** Nesting depth of lock-file YAML (js-yaml's maxDepth): deep input is a typed error, not a stack overflow. */
export const MAX_YAML_DEPTH = 64;

let yamlModule: Promise<JsYaml> | undefined;

/** Items of a top-level list parsed together (one parse call per batch, not per item). */
const BATCH_ITEMS = 2000;
class Batch {
  values: unknown[] | undefined;
  constructor(readonly start: number, readonly end: number, readonly line: number) {}
}
/** An item of a top-level list, parsed (with its batch) on first use. */
class LazyItem {
  constructor(readonly chunk: Chunk, readonly batch: Batch, readonly index: number) {}
}
/** A top-level list written as `key:` then `- ` lines at column 0. */
class LazyList {
  constructor(readonly items: LazyItem[]) {}
}

const isPlainMap = (n: unknown): n is Record<string, unknown> => typeof n === 'object' && n !== null && !Array.isArray(n)
  && !(n instanceof LazyItem) && !(n instanceof LazyList);

export async function loadYaml(text: string, file: string): Promise<YamlSource> {
  yamlModule ??= import('js-yaml');
  const Y = await yamlModule;
  const parse = (source: string, firstLine: number): LinedValue => {
    try {
      const parsed = parseWithLines(Y, source, firstLine, { maxDepth: MAX_YAML_DEPTH, maxAliases: MAX_ALIAS_COUNT });
      if (parsed.aliases > 0 && expandedSize(parsed.value, MAX_ALIAS_EXPANSION) > MAX_ALIAS_EXPANSION) {
        throw specError({ file, line: firstLine }, `YAML aliases would expand to more than ${MAX_ALIAS_EXPANSION} nodes; refusing this file`);
      }
      return parsed;
    } catch (err) {
      if (!(err instanceof Y.YAMLException)) throw err;
      const mark = (err as { mark?: { line?: number } }).mark;
      const reason = (err as { reason?: string }).reason ?? err.message.split('\n')[0];
      const aliases = /alias/i.test(reason ?? '') ? 'YAML aliases: ' : '';
      throw specError({ file, line: mark?.line !== undefined ? mark.line + firstLine : undefined }, `not valid YAML: ${aliases}${reason}`);
    }
  };

  const lineMaps: Array<WeakMap<object, number>> = [];
  const rootKeyLines = new Map<string, number>();
  let root: unknown;
  const sections = splitTopLevel(text);
  if (sections) {
    const map: Record<string, unknown> = {};
    for (const s of sections) {
      rootKeyLines.set(s.key, s.line);
      if (s.items) {
        map[s.key] = new LazyList(batched(s.items));
        continue;
      }
      const parsed = parse(text.slice(s.body!.start, s.body!.end), s.line);
      const value = isPlainMap(parsed.value) ? parsed.value[s.key] : undefined;
      lineMaps.push(parsed.lines);
      map[s.key] = value ?? null;
    }
    root = map;
  } else {
    const parsed = parse(text, 1);
    lineMaps.push(parsed.lines);
    for (const [k, v] of parsed.rootKeyLines) rootKeyLines.set(k, v);
    root = parsed.value;
  }

  // Only the batch in use is kept parsed: callers walk a list in order, so memory stays one batch.
  let current: Batch | undefined;
  const valueOf = (node: unknown): unknown => {
    if (node instanceof LazyList) return node.items.map(valueOf);
    if (!(node instanceof LazyItem)) return node;
    const { batch } = node;
    if (!batch.values) {
      if (current) current.values = undefined;
      const parsed = parse(text.slice(batch.start, batch.end), batch.line).value;
      batch.values = Array.isArray(parsed) ? parsed : [];
      current = batch;
    }
    return batch.values[node.index] ?? null;
  };
  return {
    file,
    root,
    lineOf: (node) => {
      if (node instanceof LazyItem) return node.chunk.line;
      if (node instanceof LazyList) return node.items[0] ? node.items[0].chunk.line - 1 : undefined;
      if (typeof node !== 'object' || node === null) return undefined;
      for (const m of lineMaps) {
        const line = m.get(node);
        if (line !== undefined) return line;
      }
      return undefined;
    },
    rootKeyLine: (key) => rootKeyLines.get(key),
    child: (node, key) => (isPlainMap(node) && Object.hasOwn(node, key) ? node[key] : undefined),
    items: (node) => (node instanceof LazyList ? node.items : Array.isArray(node) ? node : []),
    entries: (node) => (isPlainMap(node) ? Object.entries(node) : []),
    isMap: (node) => isPlainMap(node),
    isSeq: (node) => node instanceof LazyList || Array.isArray(node),
    toJs: valueOf,
  };
}

function batched(chunks: readonly Chunk[]): LazyItem[] {
  const out: LazyItem[] = [];
  for (let i = 0; i < chunks.length; i += BATCH_ITEMS) {
    const group = chunks.slice(i, i + BATCH_ITEMS);
    const batch = new Batch(group[0]!.start, group.at(-1)!.end, group[0]!.line);
    group.forEach((c, j) => out.push(new LazyItem(c, batch, j)));
  }
  return out;
}

/** Cheap check on raw text before loading YAML: does a top-level key exist? */
export function hasTopLevelKey(text: string, key: string): boolean {
  return new RegExp(`^${key}\\s*:`, 'm').test(text);
}
