import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFileServer, type FileServer } from '../../helpers/servers/http.js';
import { bytes, listDir, sha256, tempDir } from '../../helpers/fs.js';
import { trickleRoute } from './cli-helpers.js';
import { spawnCli } from '../../helpers/cli.js';

interface Pkg {
  name: string;
  body: Buffer;
  path: string;
}

async function environment(t: import('node:test').TestContext, count: number, size: number) {
  const server = await startFileServer(t);
  const state = { slow: true };
  const pkgs: Pkg[] = Array.from({ length: count }, (_, i) => {
    const name = `big${i}-1.0-h0_0.conda`;
    return { name, body: bytes(size + i * 1000, i + 11), path: `/cf/linux-64/${name}` };
  });
  for (const p of pkgs) trickleRoute(server, p.path, p.body, state);
  const dir = await tempDir(t);
  const spec = join(dir, 'env.txt');
  await writeFile(spec, `# platform: linux-64\n@EXPLICIT\n${pkgs.map((p) => `${server.url}${p.path}#sha256:${sha256(p.body)}`).join('\n')}\n`);
  return { server, state, pkgs, dir, spec, pkgsDir: join(dir, 'pkgs') };
}

async function assertComplete(pkgsDir: string, pkgs: Pkg[]): Promise<void> {
  const files = await listDir(pkgsDir);
  assert.deepEqual(files, [...pkgs.map((p) => p.name), 'urls', 'urls.txt'].sort(), 'only verified packages and conda markers');
  for (const p of pkgs) assert.equal(sha256(await readFile(join(pkgsDir, p.name))), sha256(p.body));
}

function ranged(server: FileServer): number {
  return server.requests.filter((r) => /^bytes=[1-9]\d*-$/.test(String(r.headers.range ?? ''))).length;
}

for (const signal of ['SIGINT', 'SIGKILL'] as const) {
  test(`a fetch killed with ${signal} mid-transfer resumes on the next run and ends with only verified files`, async (t) => {
    const env = await environment(t, 3, 1_500_000);
    const first = spawnCli(['fetch', '--no-extract', env.spec, '--pkgs-dir', env.pkgsDir, '--json', '-j', '3'], env.dir);
    const started = new Set<string>();
    await first.waitFor((l) => {
      if (l.type === 'progress' && Number(l.bytes) > 0) started.add(String(l.fileName));
      return started.size === 3;
    });
    await new Promise((r) => setTimeout(r, 300));
    first.child.kill(signal);
    const code = await first.exit;
    if (signal === 'SIGINT') {
      assert.equal(code, 130, first.stderr());
      const summary = first.lines.find((l) => l.type === 'summary')?.summary as { aborted: boolean; failed: number };
      assert.equal(summary.aborted, true);
      assert.equal(summary.failed, 0);
    }
    const partials = (await listDir(env.pkgsDir)).filter((f) => f.endsWith('.partial'));
    assert.equal(partials.length, 3, 'each interrupted download left a resumable .partial');
    for (const f of partials) assert.ok((await stat(join(env.pkgsDir, f))).size > 0);
    for (const p of env.pkgs) await assert.rejects(stat(join(env.pkgsDir, p.name)), 'no file under its final name yet');

    env.state.slow = false;
    const before = env.server.requests.length;
    const second = spawnCli(['fetch', '--no-extract', env.spec, '--pkgs-dir', env.pkgsDir, '--json'], env.dir);
    assert.equal(await second.exit, 0, second.stderr());
    assert.equal(env.server.requests.length - before, 3, 'one request per package');
    assert.equal(ranged(env.server), 3, 'every package resumed with a Range request');
    const done = second.lines.filter((l) => l.type === 'done');
    assert.ok(done.every((d) => Number(d.resumedFrom) > 0));
    await assertComplete(env.pkgsDir, env.pkgs);
  });
}

test('two fetch processes on one pkgs dir at once: no corruption and no file fetched twice', async (t) => {
  const env = await environment(t, 6, 400_000);
  const a = spawnCli(['fetch', '--no-extract', env.spec, '--pkgs-dir', env.pkgsDir, '--json', '-j', '3'], env.dir);
  const b = spawnCli(['fetch', '--no-extract', env.spec, '--pkgs-dir', env.pkgsDir, '--json', '-j', '3'], env.dir);
  const [codeA, codeB] = await Promise.all([a.exit, b.exit]);
  assert.equal(codeA, 0, a.stderr());
  assert.equal(codeB, 0, b.stderr());
  for (const p of env.pkgs) {
    assert.equal(env.server.requestsFor(p.path).length, 1, `${p.name} requested once across both processes`);
  }
  const summaries = [a, b].map((r) => r.lines.find((l) => l.type === 'summary')?.summary as { fetched: number; cached: number });
  assert.equal(summaries[0]!.fetched + summaries[1]!.fetched, 6);
  assert.equal(summaries[0]!.cached + summaries[1]!.cached, 6);
  await assertComplete(env.pkgsDir, env.pkgs);
  const urls = (await readFile(join(env.pkgsDir, 'urls.txt'), 'utf8')).split('\n').filter(Boolean);
  assert.equal(new Set(urls).size, 6);
});

test('bad input on the command line: unknown format, other platform and missing file fail clearly, naming the file', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'environment.yml'), 'name: x\ndependencies:\n  - numpy\n');
  await writeFile(join(dir, 'osx.txt'), '# platform: osx-arm64\n@EXPLICIT\nhttps://conda.anaconda.org/conda-forge/osx-arm64/a-1-0.conda\n');
  const unknown = spawnCli(['fetch', '--no-extract', 'environment.yml', '--pkgs-dir', 'pkgs'], dir);
  assert.equal(await unknown.exit, 2);
  assert.match(unknown.stderr(), /ConfigError: .*environment\.yml:1: unknown format/);
  const other = spawnCli(['fetch', '--no-extract', 'osx.txt', '--pkgs-dir', 'pkgs', '--platform', 'linux-64', '--json'], dir);
  assert.equal(await other.exit, 2);
  assert.equal(other.lines[0]?.code, 'CG_SPEC_INVALID');
  assert.match(String(other.lines[0]?.message), /osx\.txt:1: this explicit file is for platform 'osx-arm64'/);
  const missing = spawnCli(['fetch', '--no-extract', 'nope.lock', '--pkgs-dir', 'pkgs'], dir);
  assert.equal(await missing.exit, 2);
  assert.match(missing.stderr(), /nope\.lock: no such file/);
  assert.deepEqual(await listDir(dir), ['environment.yml', 'osx.txt'], 'nothing created');
});

test('--json prints masked event lines and a summary; a failed package makes the exit status non-zero and is named with its line', async (t) => {
  const server = await startFileServer(t);
  const dir = await tempDir(t);
  const good = bytes(200_000, 5);
  server.setFile('/t/tk-s3cr3t/cf/noarch/good-1-0.conda', good);
  const base = server.url.replace('http://', 'http://user:pa55s3cr3t@');
  await writeFile(join(dir, 'env.txt'), `@EXPLICIT\n${base}/t/tk-s3cr3t/cf/noarch/good-1-0.conda#sha256:${sha256(good)}\n` +
    `${base}/t/tk-s3cr3t/cf/noarch/gone-1-0.conda#${'a'.repeat(32)}\n`);
  const json = spawnCli(['fetch', '--no-extract', 'env.txt', '--pkgs-dir', 'pkgs', '--json'], dir);
  assert.equal(await json.exit, 4, json.stderr());
  const types = new Set(json.lines.map((l) => l.type));
  for (const type of ['plan', 'start', 'progress', 'done', 'error', 'summary']) assert.ok(types.has(type), `has a ${type} line`);
  const summary = json.lines.at(-1)?.summary as { failed: number; fetched: number; failures: Array<{ origin: { line: number } }> };
  assert.equal(summary.fetched, 1);
  assert.equal(summary.failed, 1);
  assert.equal(summary.failures[0]!.origin.line, 3);
  const all = JSON.stringify(json.lines) + json.stderr() + (await readFile(join(dir, 'pkgs', 'urls.txt'), 'utf8'));
  assert.ok(!all.includes('s3cr3t'), 'no secret anywhere');

  const text = spawnCli(['fetch', '--no-extract', 'env.txt', '--pkgs-dir', 'pkgs'], dir);
  assert.equal(await text.exit, 4);
  assert.match(text.stderr(), /0 fetched .*1 from cache, 0 extracted, 1 failed/);
  assert.match(text.stderr(), /gone-1-0\.conda \(.*env\.txt:3\): CondaHTTPError/);
  assert.ok(!text.stderr().includes('s3cr3t'));
  const quiet = spawnCli(['-q', 'fetch', '--no-extract', 'env.txt', '--pkgs-dir', 'pkgs'], dir);
  assert.equal(await quiet.exit, 4);
  assert.match(quiet.stderr(), /^1 package\(s\) failed:/);
  const dry = spawnCli(['fetch', '--no-extract', 'env.txt', '--pkgs-dir', 'pkgs', '--dry-run'], dir);
  assert.equal(await dry.exit, 0);
  assert.match(dry.stderr(), /Dry run: 1 of 2 packages would be fetched/);
  assert.deepEqual(await listDir(join(dir, 'pkgs')), ['good-1-0.conda', 'urls', 'urls.txt']);
});
