import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { run } from '../../../src/cli/main.js';
import { startFtpServer } from '../../helpers/servers/ftp.js';
import { startS3Server } from '../../helpers/servers/s3.js';
import { bytes, listDir, sha256, tempDir } from '../../helpers/fs.js';

function capture(): Writable & { text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return Object.assign(stream, { text: () => text });
}

/** `conda-gateway …` in this process with its own environment; HOME points at an empty directory. */
async function cli(args: string[], env: Record<string, string>, cwd: string) {
  const stdout = capture();
  const stderr = capture();
  const code = await run(['node', 'conda-gateway', ...args], {
    stdout, stderr, cwd, env: { HOME: cwd, CONDA_REMOTE_BACKOFF_FACTOR: '0', ...env },
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

const BODY = bytes(120_000, 8);

test('conda-gateway download works over file://, ftp:// and s3://, and --offline refuses the remote ones', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'local.conda'), BODY);
  const ftp = await startFtpServer(t);
  await ftp.setFile('/pub/pkg.conda', BODY);
  const s3 = await startS3Server(t);
  await s3.putObject('chan/pkg.conda', BODY);
  const out = await tempDir(t);
  const urls = {
    file: pathToFileURL(join(dir, 'local.conda')).href,
    ftp: `${ftp.url}/pub/pkg.conda`,
    s3: `s3://${s3.bucket}/chan/pkg.conda`,
  };
  for (const [scheme, url] of Object.entries(urls)) {
    const r = await cli(['download', url, '-o', join(out, `${scheme}.conda`), '--sha256', sha256(BODY), '--json'], s3.env(), out);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(json.bytes, BODY.length);
    assert.deepEqual(await readFile(join(out, `${scheme}.conda`)), BODY);
  }
  const ftpBefore = ftp.connections;
  const s3Before = s3.connections;
  for (const scheme of ['ftp', 's3'] as const) {
    const r = await cli(['--offline', 'download', urls[scheme], '-o', join(out, `offline-${scheme}.conda`)], s3.env(), out);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /OfflineError: EnforceUnusedAdapter called with url/);
  }
  const offlineFile = await cli(['--offline', 'download', urls.file, '-o', join(out, 'offline-file.conda'), '-q'], {}, out);
  assert.equal(offlineFile.code, 0, offlineFile.stderr);
  assert.equal(ftp.connections, ftpBefore);
  assert.equal(s3.connections, s3Before);
  assert.deepEqual(await listDir(out), ['file.conda', 'ftp.conda', 'offline-file.conda', 's3.conda']);
});

test('a wrong FTP password or AWS secret fails with conda\'s message and never reaches stdout or stderr', async (t) => {
  const ftp = await startFtpServer(t, { users: { alice: 'right-password' } });
  await ftp.setFile('/pub/pkg.conda', BODY);
  const s3 = await startS3Server(t);
  await s3.putObject('chan/pkg.conda', BODY);
  const out = await tempDir(t);
  const ftpSecret = 'Wr0ng-ftp-Pa55';
  const awsSecret = 'wR0ng/aws+secret/0123456789abcdefghij';
  for (const json of [false, true]) {
    const bad = await cli(['download', `ftp://alice:${ftpSecret}@127.0.0.1:${ftp.port}/pub/pkg.conda`, '-o', join(out, 'f.conda'), ...(json ? ['--json'] : [])], {}, out);
    assert.equal(bad.code, 4);
    assert.match(bad.stdout + bad.stderr, /HTTP 401 UNAUTHORIZED/);
    assert.ok(!(bad.stdout + bad.stderr).includes(ftpSecret));
    const denied = await cli(['download', `s3://${s3.bucket}/chan/pkg.conda`, '-o', join(out, 's.conda'), '-v', ...(json ? ['--json'] : [])],
      s3.env({ AWS_SECRET_ACCESS_KEY: awsSecret }), out);
    assert.equal(denied.code, 4);
    assert.match(denied.stdout + denied.stderr, /HTTP 403 FORBIDDEN/);
    assert.ok(!(denied.stdout + denied.stderr).includes(awsSecret));
    assert.ok(!(denied.stdout + denied.stderr).includes('wR0ng'));
  }
  assert.deepEqual(await listDir(out), []);
});
