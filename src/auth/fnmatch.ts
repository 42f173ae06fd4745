/** Python's fnmatch.fnmatchcase (as on POSIX: case-sensitive), matched without any regex. */

type Token =
  | { readonly kind: 'star' }
  | { readonly kind: 'any' }
  | { readonly kind: 'literal'; readonly cp: number }
  | { readonly kind: 'class'; readonly negate: boolean; readonly ranges: ReadonlyArray<readonly [number, number]> }
  | { readonly kind: 'never' };

const BANG = '!'.codePointAt(0) as number;
const DASH = '-'.codePointAt(0) as number;
const CLOSE = ']'.codePointAt(0) as number;

function indexOfCp(cps: readonly number[], cp: number, from: number, to: number): number {
  for (let k = from; k < to; k++) if (cps[k] === cp) return k;
  return -1;
}

/**
 * A `[...]` class whose body is cps[i, j), read as fnmatch.translate reads it: `-` between
 * two characters is a range, a leading or trailing `-` is literal, ranges running backwards
 * (`z-a`) are dropped rather than an error, and an empty class never matches.
 */
function classToken(cps: readonly number[], i: number, j: number): Token {
  const chunks: number[][] = [];
  if (indexOfCp(cps, DASH, i, j) < 0) {
    chunks.push(cps.slice(i, j));
  } else {
    let start = i;
    let k = cps[i] === BANG ? i + 2 : i + 1;
    for (;;) {
      k = indexOfCp(cps, DASH, k, j);
      if (k < 0) break;
      chunks.push(cps.slice(start, k));
      start = k + 1;
      k += 3;
    }
    const last = cps.slice(start, j);
    if (last.length) chunks.push(last);
    else (chunks[chunks.length - 1] as number[]).push(DASH);
    for (let m = chunks.length - 1; m > 0; m--) {
      const before = chunks[m - 1] as number[];
      const after = chunks[m] as number[];
      if ((before[before.length - 1] as number) > (after[0] as number)) {
        chunks[m - 1] = [...before.slice(0, -1), ...after.slice(1)];
        chunks.splice(m, 1);
      }
    }
  }
  const flat = chunks.flat();
  if (flat.length === 0) return { kind: 'never' };
  if (flat.length === 1 && flat[0] === BANG) return { kind: 'any' };
  const negate = flat[0] === BANG;
  if (negate) (chunks[0] as number[]).shift();
  // Chunks are joined by range operators: the last character of one chunk to the first of the next.
  const ranges: Array<[number, number]> = [];
  chunks.forEach((chunk, m) => {
    chunk.forEach((cp, n) => {
      if (m > 0 && n === 0) return;
      if (m < chunks.length - 1 && n === chunk.length - 1) {
        ranges.push([cp, (chunks[m + 1] as number[])[0] as number]);
      } else ranges.push([cp, cp]);
    });
  });
  return { kind: 'class', negate, ranges };
}

function compile(pattern: string): Token[] {
  const cps = Array.from(pattern, (c) => c.codePointAt(0) as number);
  const tokens: Token[] = [];
  const n = cps.length;
  let i = 0;
  while (i < n) {
    const c = String.fromCodePoint(cps[i] as number);
    i++;
    if (c === '*') {
      if (tokens[tokens.length - 1]?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (c === '?') {
      tokens.push({ kind: 'any' });
    } else if (c === '[') {
      let j = i;
      if (j < n && cps[j] === BANG) j++;
      if (j < n && cps[j] === CLOSE) j++;
      while (j < n && cps[j] !== CLOSE) j++;
      if (j >= n) {
        // No closing bracket: the `[` is an ordinary character.
        tokens.push({ kind: 'literal', cp: cps[i - 1] as number });
      } else {
        tokens.push(classToken(cps, i, j));
        i = j + 1;
      }
    } else {
      tokens.push({ kind: 'literal', cp: cps[i - 1] as number });
    }
  }
  return tokens;
}

function matchesOne(token: Token, cp: number): boolean {
  switch (token.kind) {
    case 'any': return true;
    case 'literal': return token.cp === cp;
    case 'class': return token.ranges.some(([lo, hi]) => lo <= cp && cp <= hi) !== token.negate;
    default: return false;
  }
}

/**
 * Whether `text` matches the shell `pattern`: `*` (any run, across `/` too), `?`, `[seq]`,
 * `[!seq]`. Every other token matches exactly one character, so one remembered `*` suffices:
 * time is at most text × pattern, never exponential, whatever the pattern.
 */
export function fnmatch(text: string, pattern: string): boolean {
  const tokens = compile(pattern);
  const cps = Array.from(text, (c) => c.codePointAt(0) as number);
  let t = 0;
  let p = 0;
  let starP = -1;
  let starT = 0;
  while (t < cps.length) {
    const token = tokens[p];
    if (token && token.kind === 'star') {
      starP = p++;
      starT = t;
    } else if (token && matchesOne(token, cps[t] as number)) {
      p++;
      t++;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (tokens[p]?.kind === 'star') p++;
  return p === tokens.length;
}
