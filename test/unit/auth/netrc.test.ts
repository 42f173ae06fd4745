import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { netrcCandidates, netrcLookup, parseNetrc } from '../../../src/auth/netrc.js';
import { isGatewayError } from '../../../src/index.js';

test('machine entries are matched by host name and the default entry catches the rest', () => {
  const netrc = parseNetrc([
    'machine repo.example.com login alice password s3cret',
    'machine other.example.com',
    '  login bob',
    '  password "pass word"',
    'default login anon password anonpass',
  ].join('\n'));
  assert.deepEqual(netrcLookup(netrc, 'repo.example.com'), { username: 'alice', password: 's3cret' });
  assert.deepEqual(netrcLookup(netrc, 'REPO.example.com'), { username: 'alice', password: 's3cret' });
  assert.deepEqual(netrcLookup(netrc, 'other.example.com'), { username: 'bob', password: 'pass word' });
  assert.deepEqual(netrcLookup(netrc, 'elsewhere.org'), { username: 'anon', password: 'anonpass' });
});

test('without a default entry an unknown host has no credentials', () => {
  const netrc = parseNetrc('machine a.example login u password p\n');
  assert.equal(netrcLookup(netrc, 'b.example'), undefined);
});

test('an empty login falls back to the account, as requests does', () => {
  const netrc = parseNetrc('machine h account acct password pw');
  assert.deepEqual(netrcLookup(netrc, 'h'), { username: 'acct', password: 'pw' });
});

test('the last entry for a machine wins, comments and macro bodies are skipped', () => {
  const netrc = parseNetrc([
    '# a comment line with machine words in it',
    'machine h login first password one',
    'macdef init',
    'cd /pub',
    'machine not-a-real-entry',
    '',
    'machine h login second password two',
  ].join('\n'));
  assert.deepEqual(netrcLookup(netrc, 'h'), { username: 'second', password: 'two' });
  assert.equal(netrc.machines.has('not-a-real-entry'), false);
});

test('a malformed file is a credentials error naming file and line but not the secret', () => {
  assert.throws(() => parseNetrc('machine h login u password\n', '/home/u/.netrc'), (e: unknown) =>
    isGatewayError(e) && e.code === 'CG_CREDENTIALS_INVALID' && /\/home\/u\/\.netrc line 1/.test(e.message));
  assert.throws(() => parseNetrc('machine h login u\n  passwd hunter2\n', '/x/.netrc'), (e: unknown) =>
    isGatewayError(e) && /line 2/.test(e.message) && !e.message.includes('hunter2') && !JSON.stringify(e).includes('hunter2'));
  assert.throws(() => parseNetrc('hunter2 machine h\n', '/x/.netrc'), (e: unknown) =>
    isGatewayError(e) && /line 1/.test(e.message) && !e.message.includes('hunter2'));
});

test('NETRC names the only file to read; otherwise ~/.netrc then ~/_netrc', () => {
  assert.deepEqual(netrcCandidates({ NETRC: '/etc/my-netrc' }, '/home/u'), ['/etc/my-netrc']);
  assert.deepEqual(netrcCandidates({}, '/home/u'), [join('/home/u', '.netrc'), join('/home/u', '_netrc')]);
});
