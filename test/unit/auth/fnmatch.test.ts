/** fnmatch behaves as Python's fnmatch.fnmatchcase, never throws, and never backtracks exponentially. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fnmatch } from '../../../src/auth/fnmatch.js';
import { selectAuthHandlerName } from '../../../src/auth/select-handler.js';

// [text, pattern, what Python 3.11's fnmatch.fnmatchcase returns]
const PYTHON: Array<[string, string, boolean]> = [
  ['z', '[z-a]', false], ['a', '[z-a]', false], ['[z-a]', '[z-a]', false], ['q', '[!z-a]', true],
  ['-', '[a-]', true], ['-', '[-a]', true], ['b', '[a-]', false],
  ['[', '[', true], ['[a', '[a', true], ['x!y', 'x[!]y', false], ['x[!]y', 'x[!]y', true], ['x]y', 'x[]]y', true],
  ['b', '[!]b]', false], [']', '[!]b]', false], ['c', '[!]b]', true],
  ['d', '[a-c-e]', false], ['-', '[a-c-e]', true], ['e', '[a-c-e]', true],
  ['\\', '[\\]', true], ['ä', '[à-é]', true], ['A', '[a-z]', false], ['aXb/c', 'a*b/c', true], ['a\nb', 'a?b', true],
  ['^', '[^a]', true], ['b', '[^a]', false], ['&', '[&&]', true], ['😀', '?', true], ['a😀b', 'a[😀]b', true],
];

test('fnmatch gives what Python\'s fnmatchcase gives, including odd classes', () => {
  for (const [text, pattern, expected] of PYTHON) {
    assert.equal(fnmatch(text, pattern), expected, `fnmatch(${JSON.stringify(text)}, ${JSON.stringify(pattern)})`);
  }
});

test('a backwards range such as [z-a] matches nothing instead of throwing, as in Python', () => {
  assert.doesNotThrow(() => fnmatch('repo.example.com/chan', 'repo.example.com/[z-a]'));
  assert.equal(selectAuthHandlerName(new URL('https://repo.example.com/a'), undefined,
    [{ channel: 'https://repo.example.com/[z-a]', auth: 'h' }]), undefined);
  assert.equal(selectAuthHandlerName(new URL('https://repo.example.com/a'), undefined,
    [{ channel: 'https://repo.example.com/[!z-a]', auth: 'h' }]), 'h');
});

test('a pattern with many stars is matched without backtracking blow-up', { timeout: 10_000 }, () => {
  const text = `repo.example.com/${'a'.repeat(40)}`;
  assert.equal(fnmatch(text, `repo.example.com/${'*a'.repeat(14)}X`), false);
  assert.equal(fnmatch('a'.repeat(2000), `${'*a'.repeat(200)}b`), false);
  assert.equal(fnmatch(text, `repo.example.com/${'*a'.repeat(14)}*`), true);
});

test('fnmatch is case-sensitive, as on POSIX', () => {
  assert.equal(fnmatch('Repo/Chan', 'repo/chan'), false);
  assert.equal(fnmatch('repo/Chan', 'repo/[A-Z]han'), true);
});

test('channel_settings host patterns with * and [...] match the URL\'s host, whatever their case', () => {
  const url = new URL('https://repo2.example.com/chan/noarch/x.conda');
  assert.equal(selectAuthHandlerName(url, undefined, [{ channel: 'https://repo[0-9].example.com/*', auth: 'h' }]), 'h');
  assert.equal(selectAuthHandlerName(url, undefined, [{ channel: 'https://*.EXAMPLE.com/chan/*', auth: 'h' }]), 'h');
  assert.equal(selectAuthHandlerName(url, undefined, [{ channel: 'https://*.example.com/Chan/*', auth: 'h' }]), undefined);
  assert.equal(selectAuthHandlerName(url, undefined, [{ channel: 'http://*.example.com/*', auth: 'h' }]), undefined);
  assert.equal(selectAuthHandlerName(url, undefined, [{ channel: 'https:/*', auth: 'h' }]), undefined);
});
