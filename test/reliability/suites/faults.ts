/**
 * The random-fault suite, shared by the quick test and the soak runner: many downloads
 * through a seeded fault server; each ends verified or as a typed error that leaves no
 * file under the final name and at most a valid prefix, and a rerun then completes.
 */
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { download, isGatewayError, type DownloadOptions } from '../../../src/index.js';
import { startFaultServer, type FaultKind, type FaultServer } from '../../helpers/fault-server.js';
import { bytes, md5, sha256, tempDir } from '../../helpers/fs.js';
import { testSettings } from '../../helpers/settings.js';

export interface FaultRunOptions {
  transfers: number;
  seed: number;
  /** Probability of a fault per request. */
  faultRate: number;
}

export interface FaultCounts {
  transfers: number;
  checked: number;
  unchecked: number;
  verifiedFirstTry: number;
  verifiedAfterRerun: number;
  resumedOnRerun: number;
  typedErrors: Record<string, number>;
  untypedErrors: number;
  corrupt: number;
  unverified: number;
  badPartials: number;
  strayFiles: number;
  retryAfterHonoured: number;
  retryAfterIgnored: number;
  requests: number;
  faultsInjected: Record<string, number>;
}

/**
 * Downloads without a checksum only meet transport faults: wrong bytes, or a clean but
 * truncated or overlong body, cannot be told from a good response without one.
 */
const TRANSPORT_FAULTS: readonly FaultKind[] = ['cut', 'stall', 'status429', 'status503', 'ignoreRange', 'newEtag', 'redirect'];

const SIZES = [1, 777, 64 * 1024, 150_000, 420_000];

export function summarize(c: FaultCounts): string {
  const errors = Object.entries(c.typedErrors).map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
  const injected = Object.entries(c.faultsInjected).filter(([k, v]) => k !== 'ok' && v > 0).map(([k, v]) => `${k}=${v}`).join(' ');
  return `faults: ${c.transfers} transfers (${c.checked} with checksum, ${c.unchecked} without), ` +
    `${c.verifiedFirstTry + c.verifiedAfterRerun} verified (${c.verifiedFirstTry} first try, ${c.verifiedAfterRerun} after a rerun, ` +
    `${c.resumedOnRerun} reruns resumed), ${c.corrupt} corrupt, ${c.unverified} unverified files, ` +
    `${c.badPartials} bad partials, ${c.strayFiles} stray files, ${c.untypedErrors} untyped errors; ` +
    `typed errors: ${errors}; Retry-After honoured ${c.retryAfterHonoured}/${c.retryAfterHonoured + c.retryAfterIgnored}; ` +
    `${c.requests} requests, faults injected: ${injected}`;
}

export async function runFaultTransfers(opts: FaultRunOptions): Promise<FaultCounts> {
  const counts: FaultCounts = {
    transfers: 0, checked: 0, unchecked: 0, verifiedFirstTry: 0, verifiedAfterRerun: 0, resumedOnRerun: 0,
    typedErrors: {}, untypedErrors: 0, corrupt: 0, unverified: 0, badPartials: 0, strayFiles: 0,
    retryAfterHonoured: 0, retryAfterIgnored: 0, requests: 0, faultsInjected: {},
  };
  const checkedServer = await startFaultServer(undefined, { seed: opts.seed, faultRate: opts.faultRate, stallMs: 1200 });
  const uncheckedServer = await startFaultServer(undefined, {
    seed: opts.seed + 1, faultRate: opts.faultRate, stallMs: 1200, kinds: TRANSPORT_FAULTS,
  });
  const dir = await tempDir(undefined, 'cg-faults-');
  const bodies = SIZES.map((n, i) => bytes(n, 100 + i));
  bodies.forEach((body, i) => {
    checkedServer.addFile(`/f${i}.conda`, body);
    uncheckedServer.addFile(`/f${i}.conda`, body);
  });
  const settings = testSettings({ remoteReadTimeoutSecs: 0.25, remoteRetryAfterMaxSecs: 5, remoteConnectTimeoutSecs: 2 });
  try {
    for (let i = 0; i < opts.transfers; i++) {
      const withChecksum = i % 4 !== 3;
      const server = withChecksum ? checkedServer : uncheckedServer;
      const which = i % bodies.length;
      const body = bodies[which]!;
      const url = `${server.url}/f${which}.conda`;
      const sub = join(dir, String(i));
      await mkdir(sub);
      const target = join(sub, `f${which}.conda`);
      const delays: Array<{ reason: string; delayMs: number }> = [];
      const call: DownloadOptions = {
        settings, sleep: async () => undefined,
        onRetry: (e) => delays.push({ reason: e.reason, delayMs: e.delayMs }),
      };
      if (withChecksum) {
        call.sha256 = sha256(body);
        if (i % 3 === 0) call.md5 = md5(body);
        if (i % 2 === 0) call.size = body.length;
      }
      counts.transfers++;
      if (withChecksum) counts.checked++;
      else counts.unchecked++;
      let failed = false;
      try {
        const result = await download(url, target, call);
        if (withChecksum && result.unverified) counts.unverified++;
        counts.verifiedFirstTry++;
      } catch (err) {
        failed = true;
        if (isGatewayError(err)) counts.typedErrors[err.code] = (counts.typedErrors[err.code] ?? 0) + 1;
        else counts.untypedErrors++;
        if (await exists(target)) counts.unverified++;
        const partial = await readFile(`${target}.partial`).catch(() => undefined);
        if (partial && (partial.length === 0 || !body.subarray(0, partial.length).equals(partial))) counts.badPartials++;
      }
      for (const d of delays) {
        if (!/^HTTP (429|503)$/.test(d.reason)) continue;
        if (d.delayMs >= 1000) counts.retryAfterHonoured++;
        else counts.retryAfterIgnored++;
      }
      if (failed) {
        server.setFaultRate(0);
        try {
          const result = await download(url, target, { ...call, onRetry: undefined });
          counts.verifiedAfterRerun++;
          if (result.resumedFrom > 0) counts.resumedOnRerun++;
        } catch (err) {
          if (isGatewayError(err)) counts.typedErrors[`rerun:${err.code}`] = (counts.typedErrors[`rerun:${err.code}`] ?? 0) + 1;
          else counts.untypedErrors++;
        } finally {
          server.setFaultRate(opts.faultRate);
        }
      }
      const onDisk = await readFile(target).catch(() => undefined);
      if (onDisk && !onDisk.equals(body)) counts.corrupt++;
      const names = await readdir(sub);
      counts.strayFiles += names.filter((n) => n !== `f${which}.conda`).length;
    }
  } finally {
    counts.requests = checkedServer.decisions.length + uncheckedServer.decisions.length;
    for (const s of [checkedServer, uncheckedServer] as FaultServer[]) {
      for (const [k, v] of Object.entries(s.counts())) counts.faultsInjected[k] = (counts.faultsInjected[k] ?? 0) + v;
    }
    await checkedServer.close();
    await uncheckedServer.close();
    await rm(dir, { recursive: true, force: true });
  }
  return counts;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}
