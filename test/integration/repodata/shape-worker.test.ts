/**
 * Large cold fetches validate and write in a worker thread (shape-sink.ts, shape-worker.ts).
 * Bodies of unknown length take that path, so these serve chunked responses: a good index is
 * cached byte for byte; a bad one, one over a limit, a cancelled one and a worker that fails to
 * load or exits mid-body each end in a typed error with nothing left in the cache directory.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { fetchRepodata, isGatewayError, type FetchRepodataOptions } from '../../../src/index.js';
import { cachePaths } from '../../../src/repodata/index.js';
import { prestartShapeWorker, setShapeWorkerForTesting } from '../../../src/repodata/shape-sink.js';
import { RECORD_COUNT_KEY } from '../../../src/repodata/cache-state.js';
import { tempDir } from '../../helpers/fs.js';
import { testSettings } from '../../helpers/settings.js';
import { repodataOf, zstd } from '../../unit/repodata/fixtures.js';

type Body = (res: ServerResponse) => void;

/** Serves `/chan/noarch/<file>` without Content-Length (chunked), so the worker path is taken. */
async function serve(t: TestContext, files: Record<string, Body>): Promise<string> {
  const server = createServer((req, res) => {
    const file = new URL(req.url ?? '/', 'http://x').pathname.replace('/chan/noarch/', '');
    const body = files[file];
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    body(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/chan`;
}

/** The bytes in pieces of `size`, each its own write (chunked encoding). */
function pieces(bytes: Buffer, size = 64 * 1024): Body {
  return (res) => {
    for (let i = 0; i < bytes.length; i += size) res.write(bytes.subarray(i, i + size));
    res.end();
  };
}

const opts = (cacheDir: string, extra: Partial<FetchRepodataOptions> = {}): FetchRepodataOptions =>
  ({ cacheDir, settings: testSettings({ remoteMaxRetries: 0 }), ...extra });

const code = (err: unknown): string => (isGatewayError(err) ? err.code : `not a GatewayError: ${String(err)}`);

async function leftovers(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => !f.endsWith('.lock')).sort();
}

function bigIndex(records: number): Buffer {
  const list = Array.from({ length: records }, (_, i) => ({ name: `pkg-${i % 500}`, version: `${i}.0`, subdir: 'noarch', depends: ['python >=3.10'] }));
  return Buffer.from(JSON.stringify(repodataOf('noarch', list)));
}

test('a large index through the worker is cached byte for byte, with its records counted', async (t) => {
  const json = bigIndex(12_000);
  assert.ok(json.length > 3 * 2 ** 20);
  const channel = await serve(t, { 'repodata.json.zst': pieces(zstd(json), 7001), 'repodata.json': pieces(json, 50_000) });
  for (const repodataUseZst of [true, false]) {
    const cacheDir = await tempDir(t);
    const r = await fetchRepodata(channel, 'noarch', opts(cacheDir, { settings: testSettings({ remoteMaxRetries: 0, repodataUseZst }) }));
    assert.equal(r.cacheResult, 'miss');
    assert.equal(r.source, repodataUseZst ? 'repodata.json.zst' : 'repodata.json');
    assert.equal(await r.recordCount(), 12_000);
    assert.ok((await readFile(r.cachePath)).equals(json), 'the cache file holds the index as served');
    assert.deepEqual(await r.records(), JSON.parse(json.toString()));
    assert.deepEqual(await leftovers(cacheDir), [cachePaths(cacheDir, `${channel}/noarch`).data, cachePaths(cacheDir, `${channel}/noarch`).state]
      .map((p) => p.slice(cacheDir.length + 1)).sort());
  }
});

test('bad bodies found by the worker are CG_REPODATA_INVALID and leave nothing', async (t) => {
  const good = bigIndex(2000).toString();
  const bodies = ['[1, 2, 3]', '{"packages": [1]}', '{"packages": {"a-1-0.conda": 5}}', good.slice(0, -1), `${good} trailing`,
    good.replace('"python >=3.10"', '"python \\x"')];
  for (const body of bodies) {
    const channel = await serve(t, { 'repodata.json.zst': pieces(zstd(body), 1000) });
    const cacheDir = await tempDir(t);
    await assert.rejects(fetchRepodata(channel, 'noarch', opts(cacheDir)), (err) => code(err) === 'CG_REPODATA_INVALID', body.slice(0, 40));
    assert.deepEqual(await leftovers(cacheDir), [], body.slice(0, 40));
  }
});

test('an index over limits.maxIndexBytes stops in the worker path too, nothing left', async (t) => {
  const channel = await serve(t, { 'repodata.json.zst': pieces(zstd(bigIndex(12_000)), 7001) });
  const cacheDir = await tempDir(t);
  await assert.rejects(fetchRepodata(channel, 'noarch', opts(cacheDir, { limits: { maxIndexBytes: 2 ** 20 } })),
    (err) => code(err) === 'CG_REPODATA_TOO_LARGE');
  assert.deepEqual(await leftovers(cacheDir), []);
});

for (const [name, fixture] of [['fails to load', 'throws-on-load.ts'], ['exits mid-body', 'exits-mid-body.ts']] as const) {
  test(`a worker that ${name} is a typed CG_WORKER_FAILED error, not a hang, and nothing is cached`, async (t) => {
    setShapeWorkerForTesting(new URL(`../../fixtures/shape-worker/${fixture}`, import.meta.url));
    t.after(() => setShapeWorkerForTesting(undefined));
    const channel = await serve(t, { 'repodata.json.zst': pieces(zstd(bigIndex(12_000)), 7001) });
    const cacheDir = await tempDir(t);
    await assert.rejects(fetchRepodata(channel, 'noarch', opts(cacheDir)), (err) => {
      assert.equal(code(err), 'CG_WORKER_FAILED');
      assert.match((err as Error).message, /worker thread/);
      return true;
    });
    assert.deepEqual(await leftovers(cacheDir), []);
  });
}

test('a worker that hangs without dying is a typed CG_WORKER_FAILED error after the watchdog time, nothing cached', async (t) => {
  setShapeWorkerForTesting(new URL('../../fixtures/shape-worker/hangs.ts', import.meta.url), { watchdogMs: 300 });
  t.after(() => setShapeWorkerForTesting(undefined));
  const channel = await serve(t, { 'repodata.json.zst': pieces(zstd(bigIndex(12_000)), 7001) });
  const cacheDir = await tempDir(t);
  const started = Date.now();
  await assert.rejects(fetchRepodata(channel, 'noarch', opts(cacheDir)), (err) => {
    assert.equal(code(err), 'CG_WORKER_FAILED');
    assert.match((err as Error).message, /stopped responding/);
    return true;
  });
  assert.ok(Date.now() - started < 30_000);
  assert.deepEqual(await leftovers(cacheDir), []);
});

test('the record count is kept in the state file for the data file it was counted on', async (t) => {
  const json = bigIndex(12_000);
  const channel = await serve(t, { 'repodata.json.zst': pieces(zstd(json), 7001) });
  const cacheDir = await tempDir(t);
  const ttl = (): FetchRepodataOptions => opts(cacheDir, { settings: testSettings({ remoteMaxRetries: 0, localRepodataTtl: 3600 }) });
  const first = await fetchRepodata(channel, 'noarch', ttl());
  const paths = cachePaths(cacheDir, `${channel}/noarch`);
  const state = JSON.parse(await readFile(paths.state, 'utf8')) as Record<string, unknown>;
  assert.deepEqual(state[RECORD_COUNT_KEY], { count: 12_000, size: json.length, mtime_ns: String(first.state.mtime_ns) });
  // Other bytes of the same size (an empty object: a count would say 0), the state and our key moved
  // to the new mtime (file times cannot be set to the nanosecond): a hit answers from the state file.
  await writeFile(paths.data, `{${' '.repeat(json.length - 2)}}`);
  const spaces = await stat(paths.data, { bigint: true });
  const text = await readFile(paths.state, 'utf8');
  await writeFile(paths.state, text.split(String(first.state.mtime_ns)).join(spaces.mtimeNs.toString()));
  const hit = await fetchRepodata(channel, 'noarch', ttl());
  assert.equal(hit.cacheResult, 'hit');
  assert.equal(await hit.recordCount(), 12_000);
  // conda rewrites the data file and the state's stat fields, keeping our key: the count is not believed.
  const smaller = bigIndex(100);
  await writeFile(paths.data, smaller);
  const st = await stat(paths.data, { bigint: true });
  const { mtime_ns: _m, refresh_ns: _r, ...rest } = state;
  const refresh = (await readFile(paths.state, 'utf8')).match(/"refresh_ns": (\d+)/)![1]!;
  await writeFile(paths.state, JSON.stringify({ ...rest, size: smaller.length, mtime_ns: 'M', refresh_ns: 'R' })
    .replace('"M"', st.mtimeNs.toString()).replace('"R"', refresh));
  const after = await fetchRepodata(channel, 'noarch', ttl());
  assert.equal(after.cacheResult, 'hit');
  assert.equal(await after.recordCount(), 100);
});

test('a worker started ahead of the response (a cold fetch starts one) is used, and an unused one keeps no process alive', async (t) => {
  const json = bigIndex(12_000);
  const channel = await serve(t, { 'repodata.json.zst': pieces(zstd(json), 7001) });
  for (let round = 0; round < 2; round++) {
    prestartShapeWorker();
    const cacheDir = await tempDir(t);
    const r = await fetchRepodata(channel, 'noarch', opts(cacheDir));
    assert.equal(await r.recordCount(), 12_000);
    assert.ok((await readFile(r.cachePath)).equals(json));
  }
  const sink = new URL('../../../src/repodata/shape-sink.ts', import.meta.url).href;
  // It would otherwise live for its 30 s idle time.
  const started = Date.now();
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e',
    `const m = await import(${JSON.stringify(sink)}); m.prestartShapeWorker(); console.log('started');`], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim(), 'started');
  assert.ok(Date.now() - started < 25_000, `the process lived ${Date.now() - started} ms`);
});

test('cancelling mid-body stops the worker and leaves nothing', async (t) => {
  const json = zstd(bigIndex(12_000));
  const controller = new AbortController();
  const channel = await serve(t, {
    // Half the body, then nothing more until the client gives up.
    'repodata.json.zst': (res) => {
      res.write(json.subarray(0, json.length >> 1));
      setTimeout(() => controller.abort(), 100);
    },
  });
  const cacheDir = await tempDir(t);
  await assert.rejects(fetchRepodata(channel, 'noarch', opts(cacheDir, { signal: controller.signal })),
    (err) => code(err) === 'CG_ABORTED');
  assert.deepEqual(await leftovers(cacheDir), []);
});
