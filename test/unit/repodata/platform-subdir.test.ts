import { test } from 'node:test';
import assert from 'node:assert/strict';
import { platformSubdir } from '../../../src/cli/commands/repodata.js';

test('the default subdir is conda\'s name for the platform', () => {
  assert.equal(platformSubdir('linux', 'x64'), 'linux-64');
  assert.equal(platformSubdir('linux', 'arm64'), 'linux-aarch64');
  assert.equal(platformSubdir('linux', 'ppc64'), 'linux-ppc64le');
  assert.equal(platformSubdir('darwin', 'arm64'), 'osx-arm64');
  assert.equal(platformSubdir('darwin', 'x64'), 'osx-64');
  assert.equal(platformSubdir('win32', 'x64'), 'win-64');
});
