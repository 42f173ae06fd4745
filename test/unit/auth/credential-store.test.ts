import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { credentialStorePath, lookupInStore, parseCredentialStore, storeKeysFor } from '../../../src/auth/credential-store.js';
import { isGatewayError } from '../../../src/index.js';

const STORE = parseCredentialStore(JSON.stringify({
  '*.prefix.dev': { BearerToken: 'bearer-secret' },
  'otherhost.com': { BasicHTTP: { username: 'u', password: 'basic-secret' } },
  'conda.anaconda.org': { CondaToken: 'tk-secret' },
  's3://my-bucket': { S3Credentials: { access_key_id: 'AKIA1', secret_access_key: 's3-secret', session_token: null } },
}), '/c.json');

test('lookup follows rattler: exact host, then s3://bucket, then wildcards up the domain', () => {
  assert.deepEqual(storeKeysFor(new URL('https://repo.prefix.dev/x')), ['repo.prefix.dev', '*.repo.prefix.dev', '*.prefix.dev', '*.dev']);
  assert.deepEqual(lookupInStore(STORE, new URL('https://repo.prefix.dev/chan'), 'f'), { kind: 'bearer', token: 'bearer-secret', source: 'f' });
  assert.deepEqual(lookupInStore(STORE, new URL('https://a.b.prefix.dev/chan'), 'f')?.kind, 'bearer');
  assert.equal(lookupInStore(STORE, new URL('https://prefix.dev/chan'), 'f')?.kind, 'bearer', 'rattler: *.prefix.dev also covers prefix.dev');
  assert.equal(lookupInStore(STORE, new URL('https://notprefix.dev/chan'), 'f'), undefined);
  assert.deepEqual(lookupInStore(STORE, new URL('https://otherhost.com:8443/x'), 'f'), { kind: 'basic', username: 'u', password: 'basic-secret', source: 'f' });
  assert.equal(lookupInStore(STORE, new URL('https://conda.anaconda.org/c'), 'f')?.kind, 'conda-token');
  assert.deepEqual(lookupInStore(STORE, new URL('s3://my-bucket/chan/noarch/repodata.json'), 'f'),
    { kind: 's3', accessKeyId: 'AKIA1', secretAccessKey: 's3-secret', source: 'f' });
});

test('RATTLER_AUTH_FILE names the store, else ~/.rattler/credentials.json', () => {
  assert.equal(credentialStorePath({ RATTLER_AUTH_FILE: '/x/auth.json' }, '/home/u'), '/x/auth.json');
  assert.equal(credentialStorePath({}, '/home/u'), join('/home/u', '.rattler', 'credentials.json'));
});

test('a store that is not JSON is a credentials error naming the file and line, never a secret', () => {
  const text = '{\n  "h": {"BearerToken": "leak-me-not"},\n  oops\n}';
  assert.throws(() => parseCredentialStore(text, '/home/u/.rattler/credentials.json'), (e: unknown) =>
    isGatewayError(e) && e.code === 'CG_CREDENTIALS_INVALID' && e.message.includes('/home/u/.rattler/credentials.json (line 3)') &&
    !JSON.stringify(e).includes('leak-me-not') && !e.message.includes('leak-me-not'));
});

test('an entry of an unknown kind names the host but not the value', () => {
  assert.throws(() => parseCredentialStore('{"h.example": {"Password": "pw-123"}}', '/c.json'), (e: unknown) =>
    isGatewayError(e) && /'h\.example'/.test(e.message) && !e.message.includes('pw-123'));
  assert.throws(() => parseCredentialStore('["a"]', '/c.json'), (e: unknown) => isGatewayError(e) && /JSON object/.test(e.message));
  assert.deepEqual(parseCredentialStore('  ', '/c.json'), {});
});
