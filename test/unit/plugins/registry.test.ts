import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PluginRegistry, validatePluginHeaders } from '../../../src/plugins/index.js';
import { isGatewayError } from '../../../src/index.js';
import type { AuthHandlerSpec } from '../../../src/auth/types.js';

const handler = (name: string): AuthHandlerSpec => ({ name, create: () => ({ authenticate: (req) => req }) });
const isPluginError = (pattern: RegExp) => (e: unknown) => isGatewayError(e) && e.code === 'CG_PLUGIN_INVALID' && pattern.test(e.message);

test('auth handlers are found by lowercased, trimmed name', () => {
  const reg = new PluginRegistry([{ name: 'Corp', authHandlers: [handler(' My-Auth ')] }]);
  assert.ok(reg.getAuthHandler('my-auth'));
  assert.ok(reg.getAuthHandler('  MY-AUTH'));
  assert.equal(reg.getAuthHandler('other'), undefined);
  assert.deepEqual(reg.authHandlerNames(), ['my-auth']);
});

test('a second auth handler with the same name is rejected, as conda rejects conflicting plugins', () => {
  const reg = new PluginRegistry([{ name: 'a', authHandlers: [handler('token')] }]);
  assert.throws(() => reg.register({ name: 'b', authHandlers: [handler('TOKEN')] }), isPluginError(/Conflicting plugins found for `auth_handlers`: token/));
  assert.throws(() => reg.register({ name: 'A' }), isPluginError(/Conflicting plugins found for `plugins`: a/));
  assert.throws(() => new PluginRegistry([{ name: 'c', authHandlers: [handler('x'), handler('x')] }]), isPluginError(/auth_handlers/));
  assert.throws(() => reg.register({ name: '  ' }), isPluginError(/Invalid plugin names/));
  assert.equal(reg.getAuthHandler('token') !== undefined, true, 'the first registration stays');
});

test('session headers depend on the host, request headers on the path, names are lowercased', () => {
  const reg = new PluginRegistry([{
    name: 'p',
    sessionHeaders: (host) => [{ name: 'Static-Header', value: 's' }, ...(host === 'example.com' ? [{ name: 'Host-Header', value: 'h' }] : [])],
    requestHeaders: (_host, path) => (path === '/endpoint.json' ? [{ name: 'X-Path', value: 'yes' }] : []),
  }]);
  assert.deepEqual(reg.sessionHeaders('example.com'), { 'static-header': 's', 'host-header': 'h' });
  assert.deepEqual(reg.sessionHeaders('other.org'), { 'static-header': 's' });
  assert.deepEqual(reg.requestHeaders('example.com', '/endpoint.json'), { 'x-path': 'yes' });
  assert.deepEqual(reg.requestHeaders('example.com', '/other'), {});
});

test('two plugins giving the same header is a conflict', () => {
  const reg = new PluginRegistry([
    { name: 'one', sessionHeaders: () => [{ name: 'X-A', value: '1' }] },
    { name: 'two', sessionHeaders: () => [{ name: 'x-a', value: '2' }] },
  ]);
  assert.throws(() => reg.sessionHeaders('h'), isPluginError(/Conflicting plugins found for `session_headers`: x-a/));
});

test('forbidden headers are refused with conda\'s wording, naming plugin and header', () => {
  for (const name of ['Host', 'Content-Length', 'Cookie', 'Via', 'Accept-Encoding']) {
    assert.throws(() => validatePluginHeaders({ [name]: 'x' }, 'bad'),
      isPluginError(new RegExp(`forbidden header '${name.toLowerCase()}'.*plugin 'bad'`, 's')));
  }
  assert.throws(() => validatePluginHeaders({ 'Proxy-Authorization': 'x' }, 'bad'), isPluginError(/Headers starting with 'Proxy-' or 'Sec-'/));
  assert.throws(() => validatePluginHeaders({ 'Sec-Fetch-Mode': 'x' }, 'bad'), isPluginError(/'Proxy-' or 'Sec-'/));
  assert.throws(() => validatePluginHeaders({ 'X-HTTP-Method-Override': 'TRACE' }, 'bad'), isPluginError(/forbidden method 'TRACE'/));
  validatePluginHeaders({ 'X-HTTP-Method-Override': 'POST', Authorization: 'Bearer x', 'User-Agent': 'me' }, 'ok');
  const reg = new PluginRegistry([{ name: 'evil', requestHeaders: () => [{ name: 'Host', value: 'x' }] }]);
  assert.throws(() => reg.requestHeaders('h', '/'), isPluginError(/evil/));
});
