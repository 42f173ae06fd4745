import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as undici from 'undici';
import * as lite from '../../../src/util/undici.js';

test('the undici modules loaded one by one are the very classes undici exports', () => {
  assert.equal(lite.Agent, undici.Agent);
  assert.equal(lite.proxyAgentClass(), undici.ProxyAgent);
  assert.equal(lite.Headers, undici.Headers);
  assert.equal(lite.Response, undici.Response);
  assert.equal(lite.buildConnector, undici.buildConnector);
});
