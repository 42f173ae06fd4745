import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { fetchRepodata, isGatewayError, type FetchRepodataOptions } from '../../../src/index.js';
import { cachePaths, parseState, serializeState } from '../../../src/repodata/index.js';
import { tempDir } from '../../helpers/fs.js';
import { testSettings } from '../../helpers/settings.js';
import { repodataOf } from '../../unit/repodata/fixtures.js';
import { startChannelServer, type ChannelServer } from './channel-server.js';

const LINUX = repodataOf('linux-64', [
  { name: 'python', version: '3.12.7', subdir: 'linux-64', depends: ['libdemo >=2'] },
  { name: 'libdemo', version: '2.4.0', subdir: 'linux-64' },
]);
const NOARCH = repodataOf('noarch', [{ name: 'tzdata', version: '2026a', subdir: 'noarch' }]);

async function setup(t: Parameters<typeof startChannelServer>[0]) {
  const server = await startChannelServer(t);
  server.setRepodata('linux-64', LINUX);
  server.setRepodata('noarch', NOARCH);
  const cacheDir = await tempDir(t);
  const fetch = (subdir = 'linux-64', overrides: Parameters<typeof testSettings>[0] = {}, extra: Partial<FetchRepodataOptions> = {}) =>
    fetchRepodata(server.url, subdir, { cacheDir, settings: testSettings({ remoteMaxRetries: 0, ...overrides }), ...extra });
  const paths = (subdir = 'linux-64') => cachePaths(cacheDir, `${server.url}/${subdir}`);
  const stateText = async (subdir = 'linux-64') => readFile(paths(subdir).state, 'utf8');
  return { server, cacheDir, fetch, paths, stateText };
}

/** Move refresh_ns back so the cache is stale. */
async function backdate(statePath: string, seconds: number): Promise<void> {
  const { state } = parseState(await readFile(statePath, 'utf8'));
  state.refresh_ns -= BigInt(seconds) * 1_000_000_000n;
  await writeFile(statePath, serializeState(state));
}

async function noTempFiles(dir: string): Promise<void> {
  assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tmp')), []);
}

function gets(server: ChannelServer, suffix: string): number {
  return server.requestsFor(suffix).filter((r) => r.method === 'GET').length;
}

test('a cold fetch reads repodata.json.zst and writes conda\'s two cache files', async (t) => {
  const { server, fetch, paths, stateText, cacheDir } = await setup(t);
  const result = await fetch();
  assert.equal(result.cacheResult, 'miss');
  assert.equal(result.source, 'repodata.json.zst');
  assert.deepEqual(result.repodata, LINUX);
  assert.equal(gets(server, '/linux-64/repodata.json'), 0);
  assert.deepEqual(JSON.parse(await readFile(paths().data, 'utf8')), LINUX);

  const text = await stateText();
  const raw = JSON.parse(text) as Record<string, unknown>;
  // conda's keys in conda's order, then ours: the record count of the data file as written (conda keeps unknown keys).
  assert.deepEqual(Object.keys(raw), ['url', 'etag', 'mod', 'cache_control', 'mtime_ns', 'size', 'refresh_ns', 'has_zst', 'conda_gateway_records']);
  assert.deepEqual(raw.conda_gateway_records, { count: 2, size: raw.size, mtime_ns: text.match(/"mtime_ns": (\d+)/)![1] });
  assert.equal(raw.url, `${server.url}/linux-64`);
  assert.match(raw.etag as string, /^"[0-9a-f]+"$/);
  assert.match(raw.mod as string, /GMT$/);
  assert.equal(raw.cache_control, 'public, max-age=30');
  assert.equal(typeof raw.mtime_ns, 'number');
  assert.equal(typeof raw.refresh_ns, 'number');
  const st = await stat(paths().data, { bigint: true });
  const exact = parseState(text).state;
  assert.equal(exact.mtime_ns, st.mtimeNs);
  assert.equal(BigInt(exact.size), st.size);
  assert.equal((raw.has_zst as { value: boolean }).value, true);
  assert.match((raw.has_zst as { last_checked: string }).last_checked, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  await noTempFiles(cacheDir);
});

test('a fresh cache is a hit without any request', async (t) => {
  const { server, fetch } = await setup(t);
  await fetch();
  server.clear();
  const again = await fetch();
  assert.equal(again.cacheResult, 'hit');
  assert.deepEqual(again.repodata, LINUX);
  assert.equal(server.requests.length, 0);
});

test('a stale cache is revalidated with If-None-Match only on .zst (conda\'s ZstdRepoInterface); a 304 changes only refresh_ns', async (t) => {
  const { server, fetch, paths, stateText } = await setup(t);
  await fetch();
  await backdate(paths().state, 60);
  const before = JSON.parse(await stateText()) as Record<string, unknown>;
  server.clear();
  const result = await fetch();
  assert.equal(result.cacheResult, 'revalidated');
  assert.deepEqual(result.repodata, LINUX);
  const [req] = server.requests;
  assert.equal(server.requests.length, 1);
  assert.equal(req?.path, '/linux-64/repodata.json.zst');
  assert.equal(req?.status, 304);
  assert.equal(req?.headers['if-none-match'], before.etag);
  assert.equal(req?.headers['if-modified-since'], undefined);
  const after = JSON.parse(await stateText()) as Record<string, unknown>;
  const changed = Object.keys(after).filter((k) => JSON.stringify(after[k]) !== JSON.stringify(before[k]));
  assert.deepEqual(changed, ['refresh_ns']);
});

test('local_repodata_ttl 0 revalidates every time; ttl 60 keeps a 31 s old cache', async (t) => {
  const { server, fetch, paths } = await setup(t);
  await fetch();
  server.clear();
  assert.equal((await fetch('linux-64', { localRepodataTtl: 0 })).cacheResult, 'revalidated');
  await backdate(paths().state, 31);
  assert.equal((await fetch('linux-64', { localRepodataTtl: 60 })).cacheResult, 'hit');
  assert.equal((await fetch('linux-64', { localRepodataTtl: 1 })).cacheResult, 'revalidated');
});

test('changed content on the server replaces the cache and its validators', async (t) => {
  const { server, fetch, paths, stateText } = await setup(t);
  await fetch();
  const oldEtag = (JSON.parse(await stateText()) as { etag: string }).etag;
  const changed = repodataOf('linux-64', [{ name: 'python', version: '3.13.0', subdir: 'linux-64' }]);
  server.setRepodata('linux-64', changed);
  await backdate(paths().state, 60);
  const result = await fetch();
  assert.equal(result.cacheResult, 'updated');
  assert.deepEqual(result.repodata, changed);
  assert.deepEqual(JSON.parse(await readFile(paths().data, 'utf8')), changed);
  assert.notEqual((JSON.parse(await stateText()) as { etag: string }).etag, oldEtag);
});

test('without .zst on the server it falls back to repodata.json and remembers that for 7 days', async (t) => {
  const { server, fetch, paths, stateText } = await setup(t);
  server.mode('linux-64', { noZst: true });
  const first = await fetch();
  assert.equal(first.source, 'repodata.json');
  assert.deepEqual(first.repodata, LINUX);
  const state = JSON.parse(await stateText()) as { has_zst: { value: boolean } };
  assert.equal(state.has_zst.value, false);

  await backdate(paths().state, 60);
  server.clear();
  assert.equal((await fetch()).cacheResult, 'revalidated');
  assert.deepEqual(server.requests.map((r) => r.path), ['/linux-64/repodata.json']);

  // Eight days later the .zst is tried again.
  const { state: s } = parseState(await stateText());
  s.has_zst = { value: false, last_checked: new Date(Date.now() - 8 * 86_400_000).toISOString() };
  s.refresh_ns = 0n;
  await writeFile(paths().state, serializeState(s));
  server.mode('linux-64', {});
  server.clear();
  const later = await fetch();
  assert.equal(server.requests[0]?.path, '/linux-64/repodata.json.zst');
  assert.equal(later.source, 'repodata.json.zst');
  assert.equal((JSON.parse(await stateText()) as { has_zst: { value: boolean } }).has_zst.value, true);

  // A recheck that finds no .zst, followed by a 304 for repodata.json, still records the check.
  server.mode('linux-64', { noZst: true });
  const { state: s2 } = parseState(await stateText());
  await backdate(paths().state, 60);
  await fetch();
  const s3 = parseState(await stateText()).state;
  s3.has_zst = { value: false, last_checked: new Date(Date.now() - 8 * 86_400_000).toISOString() };
  s3.refresh_ns = 0n;
  await writeFile(paths().state, serializeState(s3));
  assert.equal((await fetch()).cacheResult, 'revalidated');
  const after = parseState(await stateText()).state;
  assert.equal(after.has_zst?.value, false);
  assert.ok(Date.now() - Date.parse(after.has_zst!.last_checked.replace(/(\.\d{3})\d+/, '$1')) < 60_000);
  assert.equal(after.etag, s3.etag);
  assert.ok(s2.etag.length > 0);
});

test('repodata_use_zst false asks for repodata.json only', async (t) => {
  const { server, fetch } = await setup(t);
  const result = await fetch('linux-64', { repodataUseZst: false });
  assert.equal(result.source, 'repodata.json');
  assert.deepEqual(server.requests.map((r) => r.path), ['/linux-64/repodata.json']);
});

test('a corrupt or truncated .zst falls back to repodata.json and leaves nothing behind', async (t) => {
  for (const mode of [{ corruptZst: true }, { truncatedZst: true }]) {
    const { server, fetch, stateText, cacheDir } = await setup(t);
    server.mode('linux-64', mode);
    const logs: string[] = [];
    const result = await fetch('linux-64', {}, { log: (m) => logs.push(m) });
    assert.equal(result.source, 'repodata.json');
    assert.deepEqual(result.repodata, LINUX);
    assert.equal((JSON.parse(await stateText()) as { has_zst: { value: boolean } }).has_zst.value, false);
    assert.ok(logs.some((l) => /Could not decompress .*repodata\.json\.zst as zstd\. Fall back to \.json\./.test(l)), logs.join('\n'));
    await noTempFiles(cacheDir);
  }
});

test('a 404 on a platform subdir caches {} (fresh for ttl seconds, as the 404 has no max-age)', async (t) => {
  const { server, fetch, paths } = await setup(t);
  server.mode('win-64', { missing: true });
  const result = await fetch('win-64');
  assert.deepEqual(result.repodata, {});
  assert.equal(result.cacheResult, 'miss');
  assert.equal(await readFile(paths('win-64').data, 'utf8'), '{}');
  server.clear();
  const again = await fetch('win-64', { localRepodataTtl: 600 });
  assert.equal(again.cacheResult, 'hit');
  assert.deepEqual(again.repodata, {});
  assert.equal(server.requests.length, 0);
});

test('a 404 on noarch is an "unavailable or invalid channel" error and caches nothing', async (t) => {
  const { server, fetch, cacheDir } = await setup(t);
  server.mode('noarch', { missing: true });
  await assert.rejects(fetch('noarch'), (err: unknown) => {
    assert.ok(isGatewayError(err));
    assert.equal(err.code, 'CG_CHANNEL_UNAVAILABLE');
    assert.equal(err.name, 'UnavailableInvalidChannel');
    assert.match(err.message, /^HTTP 404 NOT FOUND for channel .* <http:\/\/127\.0\.0\.1:\d+>\n\nThe channel is not accessible or is invalid\./);
    return true;
  });
  assert.deepEqual((await readdir(cacheDir)).filter((f) => f.endsWith('.json') && !f.endsWith('.info.json')), []);
});

test('invalid JSON and a list instead of an object are clear errors that keep the old cache', async (t) => {
  const { server, fetch, paths, stateText, cacheDir } = await setup(t);
  await fetch();
  const goodState = await stateText();
  const goodData = await readFile(paths().data, 'utf8');
  for (const bad of ['{"packages": {', '[1, 2, 3]']) {
    server.setRepodata('linux-64', bad);
    await backdate(paths().state, 60);
    const backdated = await stateText();
    await assert.rejects(fetch(), (err: unknown) => isGatewayError(err) && err.code === 'CG_REPODATA_INVALID');
    assert.equal(await readFile(paths().data, 'utf8'), goodData);
    assert.equal(await stateText(), backdated);
    await noTempFiles(cacheDir);
  }
  assert.ok(goodState.length > 0);
});

test('a state file with wrong types or written twice means a clean full download', async (t) => {
  const { server, fetch, paths, stateText } = await setup(t);
  await fetch();
  for (const broken of [
    JSON.stringify({ url: 1, etag: ['x'], mod: null, cache_control: 5, mtime_ns: 'x', size: 'big', refresh_ns: {} }),
    (await stateText()) + (await stateText()),
  ]) {
    await writeFile(paths().state, broken);
    server.clear();
    const result = await fetch();
    assert.equal(result.cacheResult, 'updated');
    assert.deepEqual(result.repodata, LINUX);
    assert.equal(server.requests[0]?.headers['if-none-match'], undefined);
    assert.equal(server.requests[0]?.status, 200);
    const rewritten = await stateText();
    assert.doesNotThrow(() => JSON.parse(rewritten));
  }
});

test('a data file that disagrees with the state\'s mtime_ns/size is not trusted: no validators are sent', async (t) => {
  const { server, fetch, paths } = await setup(t);
  await fetch();
  await utimes(paths().data, new Date(), new Date(Date.now() - 5000));
  server.clear();
  const result = await fetch();
  assert.equal(result.cacheResult, 'updated');
  assert.equal(server.requests.length, 1);
  assert.equal(server.requests[0]?.headers['if-none-match'], undefined);
  assert.equal(server.requests[0]?.headers['if-modified-since'], undefined);
});

test('a cache file that matches its state but does not parse is downloaded again, not served', async (t) => {
  const { server, fetch, paths } = await setup(t);
  await fetch();
  const { state } = parseState(await readFile(paths().state, 'utf8'));
  const garbage = 'x'.repeat(state.size);
  await writeFile(paths().data, garbage);
  const st = await stat(paths().data, { bigint: true });
  await writeFile(paths().state, serializeState({ ...state, mtime_ns: st.mtimeNs }));
  server.clear();
  const result = await fetch();
  assert.deepEqual(result.repodata, LINUX);
  assert.equal(result.cacheResult, 'updated');
  const last = server.requests.at(-1);
  assert.equal(last?.headers['if-none-match'], undefined);
  assert.equal(last?.status, 200);
  assert.deepEqual(JSON.parse(await readFile(paths().data, 'utf8')), LINUX);
  await assert.rejects(async () => {
    await writeFile(paths().data, garbage);
    const st2 = await stat(paths().data, { bigint: true });
    const { state: s2 } = parseState(await readFile(paths().state, 'utf8'));
    await writeFile(paths().state, serializeState({ ...s2, size: garbage.length, mtime_ns: st2.mtimeNs }));
    await fetch('linux-64', { offline: true });
  }, (err: unknown) => isGatewayError(err) && err.code === 'CG_REPODATA_INVALID' && /conda clean --index-cache/.test(err.message));
});

test('offline mode serves a stale cache without a request, and {} when nothing is cached', async (t) => {
  const { server, fetch, paths } = await setup(t);
  await fetch();
  await backdate(paths().state, 3600);
  server.clear();
  const stale = await fetch('linux-64', { offline: true });
  assert.equal(stale.cacheResult, 'stale');
  assert.deepEqual(stale.repodata, LINUX);
  const nothing = await fetch('osx-arm64', { offline: true });
  assert.equal(nothing.cacheResult, 'stale');
  assert.deepEqual(nothing.repodata, {});
  assert.equal(server.requests.length, 0);
});

test('use_index_cache uses the cache however old it is', async (t) => {
  const { server, fetch, paths } = await setup(t);
  await fetch();
  await backdate(paths().state, 3600);
  server.clear();
  assert.equal((await fetch('linux-64', { useIndexCache: true })).cacheResult, 'stale');
  assert.equal(server.requests.length, 0);
});

test('a server error is a CondaHTTPError with conda\'s 500-type text, and the cache is untouched', async (t) => {
  const { server, fetch, paths, stateText } = await setup(t);
  await fetch();
  await backdate(paths().state, 60);
  const before = await stateText();
  server.mode('linux-64', { status: 503 });
  await assert.rejects(fetch(), (err: unknown) => isGatewayError(err) && err.code === 'CG_HTTP_STATUS' &&
    // conda's conda_http_errors(url, repodata_fn) names <subdir>/repodata.json although the request was .json.zst.
    /HTTP 503 .*\/linux-64\/repodata\.json>[\s\S]*A remote server error occurred/.test(err.message));
  assert.equal(await stateText(), before);
});

test('a slow server can be abandoned with an AbortSignal, leaving no cache files', async (t) => {
  const { server, fetch, cacheDir } = await setup(t);
  server.mode('linux-64', { delayMs: 2000 });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  await assert.rejects(fetch('linux-64', {}, { signal: controller.signal }), (err: unknown) => isGatewayError(err) && err.code === 'CG_ABORTED');
  assert.deepEqual((await readdir(cacheDir)).filter((f) => /\.(json|tmp)$/.test(f)), []);
});

test('credentials in the channel URL never reach the state file, the cache key, logs or errors', async (t) => {
  const { server, cacheDir } = await setup(t);
  const port = new URL(server.url).port;
  const secretUrl = `http://user:s3cr3t@127.0.0.1:${port}`;
  const logs: string[] = [];
  const log = (m: string) => logs.push(m);
  server.mode('linux-64', { corruptZst: true });
  const result = await fetchRepodata(secretUrl, 'linux-64', { cacheDir, settings: testSettings(), log });
  assert.equal(result.state.url, `http://127.0.0.1:${port}/linux-64`);
  assert.doesNotMatch(await readFile(result.cachePath.replace(/\.json$/, '.info.json'), 'utf8'), /s3cr3t/);
  // conda's key: the URL with its credentials, hashed; never the secret itself in a file name.
  assert.equal(result.cachePath, cachePaths(cacheDir, `${secretUrl}/linux-64`).data);
  assert.notEqual(result.cachePath, cachePaths(cacheDir, `${server.url}/linux-64`).data);
  assert.doesNotMatch((await readdir(cacheDir)).join('\n'), /s3cr3t/);
  assert.doesNotMatch(String(result.url), /s3cr3t/);
  server.mode('noarch', { missing: true });
  await assert.rejects(fetchRepodata(secretUrl, 'noarch', { cacheDir, settings: testSettings(), log }), (err: unknown) => {
    assert.doesNotMatch(JSON.stringify(err) + String(err) + (err as Error).stack, /s3cr3t/);
    return true;
  });
  await fetchRepodata(secretUrl, 'osx-64', { cacheDir, settings: testSettings(), log, packages: ['python'] });
  assert.ok(logs.length >= 2);
  assert.doesNotMatch(logs.join('\n'), /s3cr3t/);
});

test('a token channel shares the cache file conda wrote for it (cache_fn_url of the URL with credentials)', async (t) => {
  const { server, cacheDir } = await setup(t);
  const tokenUrl = `${server.url}/t/tk-s3cr3t-42`;
  // What conda writes: <md5(url_w_credentials + '/')[:8]>.json and .info.json, the state's url as conda records it.
  const key = createHash('md5').update(`${tokenUrl}/linux-64/`).digest('hex').slice(0, 8);
  const data = join(cacheDir, `${key}.json`);
  await writeFile(data, JSON.stringify(LINUX));
  const st = await stat(data, { bigint: true });
  const state = {
    url: `${server.url}/linux-64`, etag: '"conda"', mod: '', cache_control: 'public, max-age=3600',
    mtime_ns: st.mtimeNs, size: Number(st.size), refresh_ns: BigInt(Date.now()) * 1_000_000n,
  };
  await writeFile(join(cacheDir, `${key}.info.json`), serializeState(state));
  server.clear();
  const result = await fetchRepodata(tokenUrl, 'linux-64', { cacheDir, settings: testSettings() });
  assert.equal(result.cacheResult, 'hit');
  assert.equal(result.cachePath, data);
  assert.deepEqual(result.repodata, LINUX);
  assert.equal(server.requests.length, 0);
  // A refresh through the token channel writes the same files, with no secret in them.
  const { state: old } = parseState(await readFile(join(cacheDir, `${key}.info.json`), 'utf8'));
  await writeFile(join(cacheDir, `${key}.info.json`), serializeState({ ...old, refresh_ns: 0n }));
  const again = await fetchRepodata(tokenUrl, 'linux-64', { cacheDir, settings: testSettings() });
  assert.equal(again.cachePath, data);
  assert.ok(server.requests.length > 0);
  assert.match(server.requests[0]!.headers['if-none-match'] ?? '', /conda/);
  const written = await readFile(join(cacheDir, `${key}.info.json`), 'utf8');
  assert.doesNotMatch(written + (await readdir(cacheDir)).join('\n'), /s3cr3t/);
});

test('two processes refreshing one cache at once download it once', async (t) => {
  const { server, cacheDir } = await setup(t);
  server.mode('linux-64', { delayMs: 400 });
  const child = fileURLToPath(new URL('./fetch-child.ts', import.meta.url));
  const tsx = new URL('../../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
  const run = () => promisify(execFile)(process.execPath, ['--import', tsx, child, server.url, 'linux-64', cacheDir], { timeout: 30_000 });
  const outs = await Promise.all([run(), run()]);
  const results = outs.map((o) => JSON.parse(o.stdout) as { cacheResult: string; count: number }).map((r) => r.cacheResult).sort();
  assert.deepEqual(results, ['hit', 'miss']);
  assert.equal(gets(server, '/linux-64/repodata.json.zst'), 1);
  await noTempFiles(cacheDir);
});

test('concurrent fetches in one process share one download', async (t) => {
  const { server, fetch } = await setup(t);
  server.mode('linux-64', { delayMs: 200 });
  const results = await Promise.all([fetch(), fetch(), fetch()]);
  assert.deepEqual(results.map((r) => r.cacheResult).sort(), ['hit', 'hit', 'miss']);
  assert.equal(gets(server, '/linux-64/repodata.json.zst'), 1);
});

test('file:// channels are re-read on every call', async (t) => {
  const dir = await tempDir(t);
  const cacheDir = await tempDir(t);
  const { mkdir } = await import('node:fs/promises');
  await mkdir(join(dir, 'noarch'));
  await writeFile(join(dir, 'noarch', 'repodata.json'), JSON.stringify(NOARCH));
  const url = `file://${dir}`;
  const settings = testSettings();
  const first = await fetchRepodata(url, 'noarch', { cacheDir, settings });
  assert.deepEqual(first.repodata, NOARCH);
  const changed = repodataOf('noarch', [{ name: 'tzdata', version: '2026b', subdir: 'noarch' }]);
  await writeFile(join(dir, 'noarch', 'repodata.json'), JSON.stringify(changed));
  const second = await fetchRepodata(url, 'noarch', { cacheDir, settings });
  assert.deepEqual(second.repodata, changed);
  assert.notEqual(second.cacheResult, 'hit');
});
