/**
 * fetchPackages() through random faults on two mirrors: a channel whose packages are
 * served only by two fault servers (the channel URL itself is never reachable). Every
 * package must end fetched and verified, or failed with a typed error that leaves no
 * file under its name; a rerun without faults completes the cache.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fetchPackages } from '../../../src/packages/fetch-packages.js';
import { packageFromUrl } from '../../../src/packages/package-url.js';
import type { PackageSpec } from '../../../src/packages/types.js';
import { seededRandom, startFaultServer } from '../../helpers/fault-server.js';
import { bytes, sha256, tempDir } from '../../helpers/fs.js';
import { testSettings } from '../../helpers/settings.js';

export interface FetchFaultCounts {
  packages: number;
  fetchedFirstRun: number;
  failedFirstRun: number;
  failoverEvents: number;
  failureCodes: Record<string, number>;
  corruptAfterFirstRun: number;
  completeAfterRerun: number;
  corruptAfterRerun: number;
  leftovers: number;
  requests: number;
}

export function fetchFaultLine(c: FetchFaultCounts): string {
  const codes = Object.entries(c.failureCodes).map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
  return `fetch faults: ${c.packages} packages from 2 faulty mirrors, first run ${c.fetchedFirstRun} fetched and verified, ` +
    `${c.failedFirstRun} failed (${codes}), ${c.failoverEvents} mirror failovers, ${c.corruptAfterFirstRun} corrupt files; ` +
    `after a rerun ${c.completeAfterRerun}/${c.packages} complete and verified, ${c.corruptAfterRerun} corrupt, ${c.leftovers} leftovers; ` +
    `${c.requests} requests`;
}

const CHANNEL = 'https://channel.invalid/chan/';

export async function runFetchFaults(opts: { packages: number; seed: number; faultRate: number }): Promise<FetchFaultCounts> {
  const mirrors = [
    await startFaultServer(undefined, { seed: opts.seed, faultRate: opts.faultRate, stallMs: 1200 }),
    await startFaultServer(undefined, { seed: opts.seed + 1, faultRate: opts.faultRate, stallMs: 1200 }),
  ];
  const pkgsDir = await tempDir(undefined, 'cg-fetch-faults-');
  const random = seededRandom(opts.seed);
  const bodies = new Map<string, Buffer>();
  const specs: PackageSpec[] = [];
  for (let i = 0; i < opts.packages; i++) {
    const body = bytes(5_000 + Math.floor(random() * 300_000), opts.seed * 100 + i);
    const fileName = `p${i}-1.0-0.conda`;
    for (const m of mirrors) m.addFile(`/chan/noarch/${fileName}`, body);
    bodies.set(fileName, body);
    specs.push(packageFromUrl(`${CHANNEL}noarch/${fileName}#sha256:${sha256(body)}`, { file: 'suite', line: i + 1 }));
  }
  const settings = testSettings({
    remoteReadTimeoutSecs: 0.25,
    mirrors: { [CHANNEL]: mirrors.map((m) => `${m.url}/chan/`) },
  });
  const audit = async (): Promise<{ complete: number; corrupt: number; leftovers: number }> => {
    let complete = 0;
    let corrupt = 0;
    let leftovers = 0;
    for (const name of await readdir(pkgsDir)) {
      const body = bodies.get(name);
      if (body) {
        if ((await readFile(join(pkgsDir, name))).equals(body)) complete++;
        else corrupt++;
      } else if (name !== 'urls.txt' && name !== 'urls' && !name.endsWith('.partial')) {
        leftovers++;
      }
    }
    return { complete, corrupt, leftovers };
  };
  const c: FetchFaultCounts = {
    packages: opts.packages, fetchedFirstRun: 0, failedFirstRun: 0, failoverEvents: 0, failureCodes: {},
    corruptAfterFirstRun: 0, completeAfterRerun: 0, corruptAfterRerun: 0, leftovers: 0, requests: 0,
  };
  try {
    const first = await fetchPackages(specs, { extract: false,
      pkgsDir, settings, jobs: 4, sleep: async () => undefined,
      onEvent: (e) => {
        if (e.type === 'mirror-failover') c.failoverEvents++;
      },
    });
    c.fetchedFirstRun = first.fetched;
    c.failedFirstRun = first.failed;
    for (const f of first.failures) c.failureCodes[f.error.code] = (c.failureCodes[f.error.code] ?? 0) + 1;
    c.corruptAfterFirstRun = (await audit()).corrupt;
    for (const m of mirrors) m.setFaultRate(0);
    await fetchPackages(specs, { extract: false, pkgsDir, settings, jobs: 4, sleep: async () => undefined });
    const after = await audit();
    c.completeAfterRerun = after.complete;
    c.corruptAfterRerun = after.corrupt;
    c.leftovers = after.leftovers + (await readdir(pkgsDir)).filter((n) => n.endsWith('.partial')).length;
  } finally {
    c.requests = mirrors.reduce((n, m) => n + m.decisions.length, 0);
    for (const m of mirrors) await m.close();
    await rm(pkgsDir, { recursive: true, force: true });
  }
  return c;
}
