/**
 * Repodata through faults: a channel subdir served as repodata.json and repodata.json.zst
 * by the fault server, republished now and then, fetched again and again with
 * local_repodata_ttl 0; every fetch returns the current index or a typed error, and the
 * cache on disk only ever holds an index the server really published.
 */
import { execFileSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { isGatewayError } from '../../../src/index.js';
import { fetchRepodata } from '../../../src/repodata/fetch-repodata.js';
import { cachePaths, subdirUrl } from '../../../src/repodata/cache-key.js';
import { startFaultServer, type FaultKind } from '../../helpers/fault-server.js';
import { tempDir } from '../../helpers/fs.js';
import { testSettings } from '../../helpers/settings.js';

/** Without a checksum for the index, one flipped byte can still be valid JSON: only faults HTTP can reveal. */
const REPODATA_FAULTS: readonly FaultKind[] = ['cut', 'stall', 'status429', 'status503', 'newEtag', 'redirect', 'tooLong', 'tooShort'];

export interface RepodataFaultCounts {
  fetches: number;
  current: number;
  typedErrors: Record<string, number>;
  untyped: number;
  wrongResult: number;
  cacheChecks: number;
  cacheCorrupt: number;
  republished: number;
  requests: number;
}

export function repodataLine(c: RepodataFaultCounts): string {
  const errors = Object.entries(c.typedErrors).map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
  return `repodata faults: ${c.fetches} fetches (${c.republished} republications), ${c.current} returned the current index, ` +
    `${c.wrongResult} returned anything else, ${c.untyped} untyped errors; typed errors: ${errors}; ` +
    `${c.cacheChecks} cache checks, ${c.cacheCorrupt} cache files holding an index never published; ${c.requests} requests`;
}

function index(version: number): string {
  const packages: Record<string, unknown> = {};
  for (let i = 0; i < 300; i++) {
    packages[`p${i}-${version}.0-0.conda`] = { name: `p${i}`, version: `${version}.0`, build: '0', build_number: 0, depends: [`dep${i % 7}`], sha256: 'ab'.repeat(32), size: 1000 + i };
  }
  return JSON.stringify({ info: { subdir: 'noarch' }, packages: {}, 'packages.conda': packages, repodata_version: 1, _version: version });
}

function zstd(text: string): Buffer {
  try {
    return execFileSync('zstd', ['-q', '-c', '-3'], { input: text, maxBuffer: 1 << 26 });
  } catch (err) {
    throw new Error(`the repodata fault suite needs the zstd CLI (Debian package zstd): ${String(err)}`);
  }
}

export async function runRepodataFaults(opts: { fetches: number; seed: number; faultRate: number }): Promise<RepodataFaultCounts> {
  const server = await startFaultServer(undefined, { seed: opts.seed, faultRate: opts.faultRate, kinds: REPODATA_FAULTS, stallMs: 1200 });
  const cacheDir = await tempDir(undefined, 'cg-repodata-faults-');
  const published = new Set<string>();
  let version = 1;
  const publish = (): void => {
    const text = index(version);
    published.add(JSON.stringify(JSON.parse(text)));
    if (server.http.files.has('/chan/noarch/repodata.json')) {
      server.replaceFile('/chan/noarch/repodata.json', Buffer.from(text));
      server.replaceFile('/chan/noarch/repodata.json.zst', zstd(text));
    } else {
      server.addFile('/chan/noarch/repodata.json', Buffer.from(text));
      server.addFile('/chan/noarch/repodata.json.zst', zstd(text));
    }
  };
  publish();
  const settings = testSettings({ localRepodataTtl: 0, remoteReadTimeoutSecs: 0.25 });
  const channel = `${server.url}/chan`;
  const paths = cachePaths(cacheDir, subdirUrl(channel, 'noarch'));
  const c: RepodataFaultCounts = {
    fetches: 0, current: 0, typedErrors: {}, untyped: 0, wrongResult: 0, cacheChecks: 0, cacheCorrupt: 0, republished: 0, requests: 0,
  };
  try {
    for (let i = 0; i < opts.fetches; i++) {
      if (i > 0 && i % 7 === 0) {
        version++;
        publish();
        c.republished++;
      }
      c.fetches++;
      try {
        const result = await fetchRepodata(channel, 'noarch', { cacheDir, settings });
        if (JSON.stringify(result.repodata) === JSON.stringify(JSON.parse(index(version)))) c.current++;
        else c.wrongResult++;
      } catch (err) {
        if (isGatewayError(err)) c.typedErrors[err.code] = (c.typedErrors[err.code] ?? 0) + 1;
        else c.untyped++;
      }
      const data = await readFile(paths.data, 'utf8').catch(() => undefined);
      if (data !== undefined) {
        c.cacheChecks++;
        let canonical = '';
        try {
          canonical = JSON.stringify(JSON.parse(data));
        } catch { /* counted below */ }
        if (!published.has(canonical)) c.cacheCorrupt++;
      }
    }
  } finally {
    c.requests = server.decisions.length;
    await server.close();
    await rm(cacheDir, { recursive: true, force: true });
  }
  return c;
}
