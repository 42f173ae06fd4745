/**
 * Issue 16, item 7: a mis-shaped .condarc must not print the password it holds. The real
 * CLI reads a .condarc with `proxy_servers.https` written as a mapping (url, username,
 * password); the ConfigError names the setting and the file, shows the shape, not the values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fs.js';
import { describeValue } from '../../src/config/parsers.js';

const CONDARCS = [
  'proxy_servers:\n  https:\n    url: http://proxy.corp:3128\n    username: me\n    password: s3cr3t-pw\n',
  'proxy_servers:\n  https: [http://me:s3cr3t-pw@proxy.corp:3128]\n',
  'channel_settings:\n  - channel: https://repo.example.com/*\n    auth: {password: s3cr3t-pw}\n',
  'remote_max_retries: http://me:s3cr3t-pw@proxy.corp:3128\n',
];

test('a password in a mis-shaped .condarc value is masked in the ConfigError, human and --json', async (t) => {
  for (const condarc of CONDARCS) {
    const home = await tempDir(t);
    await writeFile(join(home, '.condarc'), condarc);
    for (const args of [['config'], ['config', '--json'], ['download', 'http://127.0.0.1:9/x.conda', '-o', join(home, 'x')]]) {
      const r = await runCli(args, { env: { HOME: home }, cwd: home });
      assert.equal(r.code, 2, `${condarc} ${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.doesNotMatch(r.stdout + r.stderr, /s3cr3t/, `${condarc} ${args.join(' ')} leaks: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout + r.stderr, /\.condarc/);
      if (args.includes('--json')) assert.equal((JSON.parse(r.stdout) as { code: string }).code, 'CG_CONFIG_INVALID');
    }
  }
});

test('describeValue shows scalars masked and containers by shape only', () => {
  assert.equal(describeValue('lots', 'remote_max_retries'), "'lots'");
  assert.equal(describeValue({ url: 'x', password: 's3cr3t' }, 'proxy_servers.https'), 'a mapping (keys: url, password; values hidden)');
  assert.equal(describeValue(['s3cr3t'], 'x'), 'a list of 1 item');
  assert.equal(describeValue('s3cr3t', 'channel_settings[0].auth'), '<6 characters, hidden>');
  assert.doesNotMatch(describeValue('http://u:s3cr3t@h:1', 'remote_max_retries'), /s3cr3t/);
});
