/**
 * A low open-file limit (`ulimit -n 50`; macOS defaults to 256) with many parallel downloads: the run
 * must slow down and finish, not fail packages with "connection failed". The CLI runs in a child
 * whose RLIMIT_NOFILE is lowered by the shell before node starts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFileServer } from '../helpers/servers/http.js';
import { bytes, listDir, sha256, tempDir } from '../helpers/fs.js';
import { runCli } from '../helpers/cli.js';
import { FDS_PER_TRANSFER, FDS_RESERVED, transfersWithinFdLimit } from '../../src/core/fd-pressure.js';

const LIMIT = 50;

function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Node itself needs some descriptors; find out whether it starts at all under the limit. */
function canRunUnder(limit: number): string | undefined {
  const probe = spawnSync('sh', ['-c', `ulimit -n ${limit} && exec ${shellQuote(process.execPath)} -e "process.exit(0)"`]);
  if (probe.error) return `no sh to lower the open-file limit: ${probe.error.message}`;
  return probe.status === 0 ? undefined : `node does not start with ulimit -n ${limit}: ${probe.stderr.toString().trim()}`;
}

// -j 16 fits under the limit with waiting; -j 64 would hold every descriptor with partial files and wait forever
// for a socket, so the scheduler runs no more transfers at once than the limit can carry.
for (const jobs of [16, 64]) test(`fetch -j ${jobs} of 60 packages under ulimit -n ${LIMIT} slows down and completes`, async (t) => {
  const reason = canRunUnder(LIMIT);
  if (reason) return t.skip(reason);
  const server = await startFileServer(t);
  const pkgs = Array.from({ length: 60 }, (_, i) => {
    const name = `pkg${i}-1.0-h0_0.conda`;
    const body = bytes(20_000 + i * 97, i + 3);
    server.setFile(`/cf/linux-64/${name}`, body);
    return { name, body };
  });
  const dir = await tempDir(t);
  const spec = join(dir, 'env.txt');
  await writeFile(spec, `# platform: linux-64\n@EXPLICIT\n${pkgs.map((p) => `${server.url}/cf/linux-64/${p.name}#sha256:${sha256(p.body)}`).join('\n')}\n`);
  const pkgsDir = join(dir, 'pkgs');
  // The bytes are not real archives: downloads only (extraction under a low limit is not covered here).
  const res = await runCli(['fetch', spec, '--pkgs-dir', pkgsDir, '-j', String(jobs), '--no-extract'], {
    env: { CONDA_GATEWAY_NO_PROGRESS: '1' }, timeoutMs: 110_000, shellPrefix: `ulimit -n ${LIMIT}`,
  });
  assert.equal(res.code, 0, `exit ${res.code}\n${res.stderr}`);
  assert.doesNotMatch(res.stderr, /CONNECTION FAILED|EMFILE/);
  const files = (await listDir(pkgsDir)).filter((f) => f.endsWith('.conda'));
  assert.equal(files.length, 60);
  for (const p of pkgs) assert.equal(sha256(await readFile(join(pkgsDir, p.name))), sha256(p.body));
});

test('the number of transfers at once follows the open-file limit', () => {
  assert.equal(transfersWithinFdLimit(64, 50), Math.floor((50 - FDS_RESERVED) / FDS_PER_TRANSFER));
  assert.equal(transfersWithinFdLimit(16, 1024), 16, 'a roomy limit changes nothing');
  assert.equal(transfersWithinFdLimit(8, undefined), 8, 'an unknown limit changes nothing');
  assert.equal(transfersWithinFdLimit(8, 10), 1, 'always at least one');
});
