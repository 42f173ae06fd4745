/**
 * YAML documents with line numbers, for lock-file errors that name file and line.
 * The `yaml` module is loaded on first use so the CLI's start-up stays light.
 */
import { specError } from './spec-error.js';

type YamlModule = typeof import('yaml');
type YamlNode = import('yaml').Node;

export interface YamlSource {
  readonly file: string;
  readonly root: unknown;
  /** 1-based line where a node starts. */
  lineOf(node: unknown): number | undefined;
  /** A child node of a map node (undefined when absent or not a map). */
  child(node: unknown, key: string): unknown;
  /** Items of a sequence node ([] when not a sequence). */
  items(node: unknown): unknown[];
  /** Entries of a map node. */
  entries(node: unknown): Array<[string, unknown]>;
  isMap(node: unknown): boolean;
  isSeq(node: unknown): boolean;
  toJs(node: unknown): unknown;
}

let yamlModule: Promise<YamlModule> | undefined;

/** Aliases one conversion may expand (yaml's maxAliasCount): `hash: *h` works, an alias bomb does not. */
export const MAX_ALIAS_COUNT = 1000;
/** Nodes aliases may add to the whole document when expanded, beyond its own nodes. */
export const MAX_ALIAS_EXPANSION = 1_000_000;

export async function loadYaml(text: string, file: string): Promise<YamlSource> {
  yamlModule ??= import('yaml');
  const Y = await yamlModule;
  const lines = new Y.LineCounter();
  const doc = Y.parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line ?? lines.linePos(first.pos[0]).line;
    throw specError({ file, line }, `not valid YAML: ${first.message.split('\n')[0]}`);
  }
  const isNode = (n: unknown): n is YamlNode => Y.isNode(n);
  checkAliasExpansion(Y, doc, file, lines);
  // An alias stands for its anchored node everywhere (so `hash: *h` is the hash, not nothing).
  const deref = (n: unknown): unknown => (Y.isAlias(n) ? n.resolve(doc) : n);
  const lineOf = (node: unknown): number | undefined => {
    const start = isNode(node) ? node.range?.[0] : undefined;
    return start === undefined ? undefined : lines.linePos(start).line;
  };
  return {
    file,
    root: deref(doc.contents),
    lineOf,
    child: (node, key) => (Y.isMap(node) ? deref(node.get(key, true)) : undefined),
    items: (node) => (Y.isSeq(node) ? node.items.map(deref) : []),
    entries: (node) => (Y.isMap(node)
      ? node.items.map((pair) => [String(Y.isScalar(pair.key) ? pair.key.value : pair.key), deref(pair.value)] as [string, unknown])
      : []),
    isMap: (node) => Y.isMap(node),
    isSeq: (node) => Y.isSeq(node),
    toJs: (node) => {
      if (!isNode(node)) return node;
      try {
        return node.toJS(doc, { maxAliasCount: MAX_ALIAS_COUNT });
      } catch (err) {
        throw specError({ file, line: lineOf(node) }, `YAML aliases expand too far (${(err as Error).message})`);
      }
    },
  };
}

/**
 * Refuse a document whose aliases, expanded, would add more than MAX_ALIAS_EXPANSION nodes
 * (a "billion laughs" file is a few lines). Counted once per anchor, without expanding.
 */
function checkAliasExpansion(Y: YamlModule, doc: import('yaml').Document, file: string, lines: import('yaml').LineCounter): void {
  const sizes = new Map<unknown, number>();
  let aliases = 0;
  let firstAlias: YamlNode | undefined;
  Y.visit(doc, { Alias: (_key, node) => { aliases++; firstAlias ??= node; } });
  if (aliases === 0) return;
  const fail = (): never => {
    const line = firstAlias?.range ? lines.linePos(firstAlias.range[0]).line : undefined;
    throw specError({ file, line }, `YAML aliases would expand to more than ${MAX_ALIAS_EXPANSION} extra nodes; refusing this file`);
  };
  // Size of a node with its aliases expanded; iterative, so deep nesting cannot overflow the stack.
  const sizeOf = (root: unknown): number => {
    const stack: Array<{ node: unknown; done: boolean }> = [{ node: root, done: false }];
    const inProgress = new Set<unknown>();
    while (stack.length) {
      const top = stack.pop()!;
      const node = top.node;
      if (sizes.has(node)) continue;
      const target = Y.isAlias(node) ? node.resolve(doc) : undefined;
      const children: unknown[] = target ? [target]
        : Y.isMap(node) ? node.items.flatMap((p) => [p.key, p.value]) : Y.isSeq(node) ? node.items : [];
      if (!top.done) {
        if (inProgress.has(node)) fail(); // an alias inside its own anchor
        inProgress.add(node);
        stack.push({ node, done: true });
        for (const c of children) if (c !== null && c !== undefined && !sizes.has(c)) stack.push({ node: c, done: false });
        continue;
      }
      inProgress.delete(node);
      let total = target ? 0 : 1;
      for (const c of children) total += c === null || c === undefined ? 0 : sizes.get(c) ?? 0;
      if (total > MAX_ALIAS_EXPANSION * 2) fail();
      sizes.set(node, total);
    }
    return sizes.get(root) ?? 0;
  };
  let direct = 0;
  Y.visit(doc, () => { direct++; });
  if (sizeOf(doc.contents) > direct + MAX_ALIAS_EXPANSION) fail();
}

/** Cheap check on raw text before loading YAML: does a top-level key exist? */
export function hasTopLevelKey(text: string, key: string): boolean {
  return new RegExp(`^${key}\\s*:`, 'm').test(text);
}
