import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isGatewayError, loadSettings } from '../../../src/index.js';
import { SETTING_SPECS, defaultSettings } from '../../../src/config/index.js';

test("defaults are conda's", () => {
  const s = defaultSettings();
  assert.equal(s.sslVerify, true);
  assert.equal(s.remoteConnectTimeoutSecs, 9.15);
  assert.equal(s.remoteReadTimeoutSecs, 60);
  assert.equal(s.remoteMaxRetries, 3);
  assert.equal(s.remoteBackoffFactor, 1);
  assert.equal(s.offline, false);
  assert.equal(s.channelAlias, 'https://conda.anaconda.org');
  assert.equal(s.localRepodataTtl, 1);
  assert.equal(s.pathConflict, 'clobber');
  assert.equal(s.sources.sslVerify.origin, 'default');
});

test('every setting has a conda name, an env name, a parser and a doc line', () => {
  for (const [key, spec] of Object.entries(SETTING_SPECS)) {
    assert.match(spec.name, /^[a-z_0-9]+$/, key);
    assert.equal(spec.env, `CONDA_${spec.name.toUpperCase()}`, key);
    assert.equal(typeof spec.parse, 'function');
    assert.ok(spec.doc.length > 5, key);
  }
});

test('CONDA_* variables are read with their source', () => {
  const s = loadSettings({ env: { CONDA_SSL_VERIFY: 'false', CONDA_REMOTE_MAX_RETRIES: '0', CONDA_OFFLINE: 'yes', CONDA_EXPERIMENTAL: 'a, b' } });
  assert.equal(s.sslVerify, false);
  assert.equal(s.remoteMaxRetries, 0);
  assert.equal(s.offline, true);
  assert.deepEqual(s.experimental, ['a', 'b']);
  assert.equal(s.sources.remoteMaxRetries.origin, 'env:CONDA_REMOTE_MAX_RETRIES');
});

test('aliases work from the environment (CONDA_VERIFY_SSL)', () => {
  assert.equal(loadSettings({ env: { CONDA_VERIFY_SSL: 'false' } }).sslVerify, false);
});

test('a bad value names the setting and where it came from', () => {
  assert.throws(() => loadSettings({ env: { CONDA_REMOTE_MAX_RETRIES: 'lots' } }), (e: unknown) => {
    assert.ok(isGatewayError(e));
    assert.equal(e.code, 'CG_CONFIG_INVALID');
    assert.match(e.message, /remote_max_retries/);
    assert.match(e.message, /env:CONDA_REMOTE_MAX_RETRIES/);
    return true;
  });
  assert.throws(() => loadSettings({ env: { CONDA_SSL_VERIFY: '/no/such/ca.pem' } }), /ssl_verify value '\/no\/such\/ca\.pem' must be a boolean/);
  assert.throws(() => loadSettings({ env: { CONDA_REMOTE_CONNECT_TIMEOUT_SECS: '-1' } }), /remote_connect_timeout_secs/);
  assert.throws(() => loadSettings({ env: { CONDA_PATH_CONFLICT: 'explode' } }), /one of clobber, warn, prevent/);
});

test('client_ssl_cert_key without client_ssl_cert is refused', () => {
  assert.throws(() => loadSettings({ env: { CONDA_CLIENT_SSL_CERT_KEY: '/k.pem' } }), /'client_ssl_cert' is required when 'client_ssl_cert_key' is defined/);
});

test('layers apply in order, then env, then overrides', () => {
  const s = loadSettings({
    env: { CONDA_REMOTE_MAX_RETRIES: '5' },
    layers: [
      { origin: '/a/.condarc', values: { remote_max_retries: 1, remote_read_timeout_secs: 10 }, lines: { remote_read_timeout_secs: 3 } },
      { origin: '/b/.condarc', values: { remote_read_timeout_secs: 20 } },
    ],
    overrides: { offline: true },
  });
  assert.equal(s.remoteMaxRetries, 5);
  assert.equal(s.remoteReadTimeoutSecs, 20);
  assert.equal(s.sources.remoteReadTimeoutSecs.origin, '/b/.condarc');
  assert.equal(s.offline, true);
});

test('settings are frozen', () => {
  const s = defaultSettings();
  assert.throws(() => { (s as { offline: boolean }).offline = true; });
});
