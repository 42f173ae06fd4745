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
  return {
    file,
    root: doc.contents,
    lineOf: (node) => {
      const start = isNode(node) ? node.range?.[0] : undefined;
      return start === undefined ? undefined : lines.linePos(start).line;
    },
    child: (node, key) => (Y.isMap(node) ? (node.get(key, true) as unknown) : undefined),
    items: (node) => (Y.isSeq(node) ? [...node.items] : []),
    entries: (node) => (Y.isMap(node)
      ? node.items.map((pair) => [String(Y.isScalar(pair.key) ? pair.key.value : pair.key), pair.value] as [string, unknown])
      : []),
    isMap: (node) => Y.isMap(node),
    isSeq: (node) => Y.isSeq(node),
    toJs: (node) => (isNode(node) ? node.toJSON() : node),
  };
}

/** Cheap check on raw text before loading YAML: does a top-level key exist? */
export function hasTopLevelKey(text: string, key: string): boolean {
  return new RegExp(`^${key}\\s*:`, 'm').test(text);
}
