import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fnmatch, selectAuthHandlerName } from '../../../src/auth/select-handler.js';

const URL_ = new URL('https://repo.some-hostname.com/channel-name');

test('channel_settings patterns match as conda\'s tests say (same scheme, fnmatch of netloc + path)', () => {
  const cases: Array<[string, boolean]> = [
    ['https://repo.some-hostname.com/channel-name', true],
    ['https://repo.some-hostname.com/*', true],
    ['https://*.com/*', true],
    ['https://repo.some-hostname.com/another-channel', false],
    ['http://*.com/*', false],
    ['*', false],
  ];
  for (const [channel, matches] of cases) {
    assert.equal(selectAuthHandlerName(URL_, 'https://repo.some-hostname.com/channel-name', [{ channel, auth: 'h' }]) === 'h',
      matches || channel === 'https://repo.some-hostname.com/channel-name', channel);
  }
});

test('an exact channel name matches whatever the URL, and the last match wins', () => {
  const url = new URL('https://conda.anaconda.org/private/linux-64/repodata.json');
  const settings = [
    { channel: 'private', auth: 'first' },
    { channel: 'https://conda.anaconda.org/*', auth: 'second' },
    { channel: 'other', auth: 'third' },
  ];
  assert.equal(selectAuthHandlerName(url, 'private', settings), 'second');
  assert.equal(selectAuthHandlerName(url, 'private', settings.slice(0, 1)), 'first');
  assert.equal(selectAuthHandlerName(url, 'private', [{ channel: 'private', auth: '  ' }]), undefined);
  assert.equal(selectAuthHandlerName(url, 'private', [{ channel: 'private' }]), undefined);
});

test('fnmatch is fnmatchcase: * crosses slashes, ? is one character, [!x] negates', () => {
  assert.ok(fnmatch('a/b/c', 'a*c'));
  assert.ok(fnmatch('abc', 'a?c'));
  assert.ok(!fnmatch('ABC', 'abc'));
  assert.ok(fnmatch('a1', 'a[0-9]'));
  assert.ok(fnmatch('ax', 'a[!0-9]'));
  assert.ok(!fnmatch('a.b', 'a?c'));
  assert.ok(fnmatch('host.com/x.y', 'host.com/x.y'));
  assert.ok(!fnmatch('hostXcom', 'host.com'));
});
