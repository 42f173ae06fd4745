import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isGatewayError, loadCondaSettings, loadSettings } from '../../../src/index.js';
import { condarcSearchPath, findCondarcFiles, parseCondarc } from '../../../src/config/index.js';
import { tempDir } from '../../helpers/fs.js';

test('conda search path runs from system files to $CONDARC', () => {
  const path = condarcSearchPath('linux');
  assert.equal(path[0], '/etc/conda/.condarc');
  assert.equal(path.at(-1), '$CONDARC');
  assert.ok(path.indexOf('~/.condarc') < path.indexOf('$CONDA_PREFIX/.condarc'));
  assert.ok(path.indexOf('$XDG_CONFIG_HOME/conda/.condarc') < path.indexOf('~/.config/conda/.condarc'));
  assert.deepEqual(condarcSearchPath('linux', { CONDA_RESTRICT_RC_SEARCH_PATH: '1' }), ['$CONDARC']);
  assert.equal(condarcSearchPath('win32')[0], 'C:/ProgramData/conda/.condarc');
});

test('files are found in precedence order, condarc.d files sorted, and CONDARC last', async (t) => {
  const home = await tempDir(t);
  const prefix = await tempDir(t);
  await mkdir(join(home, '.conda', 'condarc.d'), { recursive: true });
  await writeFile(join(home, '.condarc'), 'offline: false\n');
  await writeFile(join(home, '.conda', 'condarc.d', 'b.yml'), 'offline: true\n');
  await writeFile(join(home, '.conda', 'condarc.d', 'a.yaml'), 'offline: true\n');
  await writeFile(join(home, '.conda', 'condarc.d', 'ignored.txt'), 'offline: true\n');
  await writeFile(join(prefix, '.condarc'), 'offline: true\n');
  await writeFile(join(home, 'custom-rc'), 'offline: true\n');
  const files = findCondarcFiles({ env: { CONDA_PREFIX: prefix, CONDARC: join(home, 'custom-rc') }, homeDir: home, platform: 'linux' })
    .filter((f) => !f.startsWith('/etc/') && !f.startsWith('/var/'));
  assert.deepEqual(files, [
    join(home, '.conda', 'condarc.d', 'a.yaml'), join(home, '.conda', 'condarc.d', 'b.yml'), join(home, '.condarc'),
    join(prefix, '.condarc'), join(home, 'custom-rc'),
  ]);
});

test('each value remembers its file and line; later files win for scalars', async (t) => {
  const home = await tempDir(t);
  await mkdir(join(home, '.config', 'conda'), { recursive: true });
  await writeFile(join(home, '.config', 'conda', 'condarc'), 'remote_max_retries: 7\nremote_backoff_factor: 3\n');
  await writeFile(join(home, '.condarc'), '# user file\n\nremote_max_retries: 5\n');
  const s = loadCondaSettings({ env: { HOME: home }, platform: 'linux' });
  assert.equal(s.remoteMaxRetries, 5);
  assert.equal(s.sources.remoteMaxRetries.origin, `${join(home, '.condarc')}:3`);
  assert.equal(s.remoteBackoffFactor, 3);
  assert.equal(s.sources.remoteBackoffFactor.origin, `${join(home, '.config', 'conda', 'condarc')}:2`);
});

test('CONDA_* variables beat every file', async (t) => {
  const home = await tempDir(t);
  await writeFile(join(home, '.condarc'), 'ssl_verify: false\nremote_max_retries: 5\n');
  const s = loadCondaSettings({ env: { HOME: home, CONDA_REMOTE_MAX_RETRIES: '0', CONDA_SSL_VERIFY: 'true' }, platform: 'linux' });
  assert.equal(s.remoteMaxRetries, 0);
  assert.equal(s.sslVerify, true);
  assert.equal(s.sources.sslVerify.origin, 'env:CONDA_SSL_VERIFY');
});

test('maps merge key by key and lists concatenate with the higher-precedence file first', () => {
  const a = parseCondarc('proxy_servers:\n  http: http://a:1\n  https: http://a:2\ndefault_channels:\n  - https://one\n  - https://two\n', '/a');
  const b = parseCondarc('proxy_servers:\n  https: http://b:2\ndefault_channels:\n  - https://three\n  - https://one\n', '/b');
  const s = loadSettings({ layers: [a, b] });
  assert.deepEqual(s.proxyServers, { http: 'http://a:1', https: 'http://b:2' });
  assert.deepEqual(s.defaultChannels, ['https://three', 'https://one', 'https://two']);
  assert.equal(s.sources.proxyServers.origin, '/b:1');
  assert.deepEqual(s.sources.proxyServers.also, ['/a:1']);
  assert.deepEqual(s.sources.proxyServers.entries, { http: '/a:2', https: '/b:2' }, 'each map entry keeps its own file and line');
});

test('#!final in a lower file keeps later files from changing the key; #!top lifts a list item', () => {
  const sys = parseCondarc('ssl_verify: /etc/hosts  #!final\ndefault_channels:\n  - https://corp  #!top\n', '/etc/conda/.condarc');
  const user = parseCondarc('ssl_verify: false\ndefault_channels:\n  - https://mine\n', '/home/u/.condarc');
  const s = loadSettings({ layers: [sys, user], env: { CONDA_SSL_VERIFY: 'false' } });
  assert.equal(s.sslVerify, '/etc/hosts');
  assert.equal(s.sources.sslVerify.origin, '/etc/conda/.condarc:1');
  assert.deepEqual(s.defaultChannels, ['https://corp', 'https://mine']);
});

test('$VAR in values is expanded from the environment, unknown variables are left alone', () => {
  const layer = parseCondarc('channel_alias: https://${HOST_X}/conda\ncustom_channels:\n  a: $NOPE/x\n', '/f', { env: { HOST_X: 'corp.example' } });
  const s = loadSettings({ layers: [layer] });
  assert.equal(s.channelAlias, 'https://corp.example/conda');
  assert.deepEqual(s.customChannels, { a: '$NOPE/x' });
});

test('malformed YAML is a ConfigError naming the file and line', () => {
  assert.throws(() => parseCondarc('ssl_verify: true\nproxy_servers:\n  http: [unclosed\n', '/home/u/.condarc'), (e: unknown) =>
    isGatewayError(e) && e.code === 'CG_CONFIG_INVALID' && /\/home\/u\/\.condarc line \d/.test(e.message));
  assert.throws(() => parseCondarc('offline: true\noffline: false\n', '/x/.condarc'), (e: unknown) =>
    isGatewayError(e) && /\/x\/\.condarc line 2/.test(e.message));
  assert.throws(() => parseCondarc('- a\n- b\n', '/x/.condarc'), (e: unknown) =>
    isGatewayError(e) && /must be a mapping/.test(e.message));
});

test('a wrong type names the file, the line and the key', () => {
  const layer = parseCondarc('offline: false\nremote_max_retries: lots\n', '/home/u/.condarc');
  assert.throws(() => loadSettings({ layers: [layer] }), (e: unknown) =>
    isGatewayError(e) && e.code === 'CG_CONFIG_INVALID' && e.message.includes("'lots'") &&
    e.message.includes('remote_max_retries') && e.message.includes('/home/u/.condarc:2'));
  const proxies = parseCondarc('proxy_servers: [a, b]\n', '/f');
  assert.throws(() => loadSettings({ layers: [proxies] }), (e: unknown) => isGatewayError(e) && /proxy_servers.*\/f:1/.test(e.message));
});

test('an ssl_verify path that does not exist is conda\'s validation error with the file and line', () => {
  const layer = parseCondarc('ssl_verify: /nowhere/ca.pem\n', '/home/u/.condarc');
  assert.throws(() => loadSettings({ layers: [layer] }), (e: unknown) =>
    isGatewayError(e) && /ssl_verify value '\/nowhere\/ca.pem' must be a boolean/.test(e.message) && e.message.includes('/home/u/.condarc:1'));
});

test('a client key without a certificate is refused, naming where the key was set', () => {
  const layer = parseCondarc('client_ssl_cert_key: /x/key.pem\n', '/home/u/.condarc');
  assert.throws(() => loadSettings({ layers: [layer] }), (e: unknown) =>
    isGatewayError(e) && e.message.includes("'client_ssl_cert' is required") && e.message.includes('/home/u/.condarc:1'));
});

test('an empty file is no settings at all', () => {
  assert.deepEqual(parseCondarc('', '/e').values, {});
  assert.deepEqual(parseCondarc('# only a comment\n', '/e').values, {});
});

test('YAML aliases resolve, and an alias bomb is a ConfigError rather than a hang', () => {
  const layer = parseCondarc('base: &b\n  http: http://p:1\nproxy_servers: *b\n', '/f');
  assert.deepEqual(loadSettings({ layers: [layer] }).proxyServers, { http: 'http://p:1' });
  const rows = ['a: &a [x,x,x,x,x,x,x,x,x]'];
  for (const [name, prev] of [['b', 'a'], ['c', 'b'], ['d', 'c']]) rows.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
  rows.push(`e: [${Array(9).fill('*d').join(',')}]`);
  assert.throws(() => parseCondarc(`${rows.join('\n')}\n`, '/bomb'), (e: unknown) => isGatewayError(e) && e.code === 'CG_CONFIG_INVALID' && /\/bomb/.test(e.message));
});
