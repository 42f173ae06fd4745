/** Proxy values with unencoded special characters in the password are masked in every printed form. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { isGatewayError } from '../../../src/index.js';
import { maskProxyValue, parseProxyUrl } from '../../../src/session/proxy.js';

const SECRET = /pr0xy-pass/i;

const BROKEN = [
  'http://proxyuser:pr0xy-pass/x@127.0.0.1:3128',
  'http://proxyuser:pr0xy-pass?x@proxy.corp',
  'http://proxyuser:pr0xy-pass#x@proxy.corp/',
  'https://proxyuser:pr0xy-pass/1@@[::1]:8080/path?x=1',
  'http://proxyuser:12/pr0xy-pass@proxy.corp',
  'http:/proxyuser:pr0xy-pass@proxy.corp',
  'HTTP:/proxyuser:pr0xy/pass@proxy.corp',
  'http:proxyuser:pr0xy-pass@proxy.corp',
  'proxyuser:pr0xy-pass/x@proxy.corp:3128',
  'pr0xy-pass:x@proxy.corp',
  'socks5://proxyuser:pr0xy-pass/@:99999',
];

function printed(err: unknown): string[] {
  const e = err as Error & { hint?: unknown };
  return [String(err), e.stack ?? '', inspect(err, { depth: 8 }), inspect(err, { depth: 8, customInspect: false }),
    JSON.stringify(err) ?? '', String(e.hint ?? '')];
}

test('a proxy value with a raw /, ? or # in the password, or a single-slash scheme, is refused with every printed form masked', () => {
  for (const url of BROKEN) {
    assert.throws(() => parseProxyUrl({ url, source: 'env:HTTPS_PROXY' }), (err: unknown) => {
      assert.ok(isGatewayError(err) && err.code === 'CG_PROXY', `${url}: ${String(err)}`);
      for (const text of printed(err)) assert.doesNotMatch(text, SECRET, `${url} leaked in: ${text}`);
      assert.match(err.message, /env:HTTPS_PROXY/);
      assert.match(err.message, /<CREDENTIALS>@/);
      return true;
    });
  }
});

test('an @ after the proxy host is refused as an unencoded password instead of connecting to the user name as a host', () => {
  assert.throws(() => parseProxyUrl({ url: 'http://proxyuser:12/pr0xy-pass@proxy.corp', source: 'env:HTTP_PROXY' }),
    (err: unknown) => isGatewayError(err) && /not percent-encoded/.test(err.message));
});

test('maskProxyValue masks everything up to the last @, even when the value cannot be parsed', () => {
  for (const url of BROKEN) {
    const masked = maskProxyValue(url);
    assert.doesNotMatch(masked, SECRET, masked);
    assert.match(masked, /<CREDENTIALS>@/);
  }
  assert.equal(maskProxyValue('http:/u:pw/x@proxy.corp:1'), 'http:/<CREDENTIALS>@proxy.corp:1');
  assert.equal(maskProxyValue('u:pw/x@proxy.corp'), '<CREDENTIALS>@proxy.corp');
});

test('maskProxyValue leaves values without credentials and filesystem paths as written', () => {
  for (const value of ['http://proxy.corp:3128', 'https://conda.anaconda.org/conda-forge', '/home/me@corp/pkgs', 'C:\\Users\\me@corp\\pkgs', '~/a@b', '']) {
    assert.equal(maskProxyValue(value), value);
  }
});

test('well-formed proxy URLs with percent-encoded special characters still parse', () => {
  const uri = parseProxyUrl({ url: 'http://proxyuser:p%2Fw%3Fd%23%40@proxy.corp:3128', source: 'env:HTTP_PROXY' });
  assert.equal(uri.hostname, 'proxy.corp');
  assert.equal(decodeURIComponent(uri.password), 'p/w?d#@');
  assert.equal(parseProxyUrl({ url: 'http://proxy.corp:3128/', source: 'x' }).port, '3128');
});

test('a single-slash proxy scheme is refused saying two slashes are needed, with a hint that reads as written', () => {
  assert.throws(() => parseProxyUrl({ url: 'http:/proxyuser:pr0xy-pass@proxy.corp:3128', source: 'env:HTTP_PROXY' }), (err: unknown) => {
    assert.ok(isGatewayError(err));
    assert.match(err.message, /followed by '\/\/'/);
    assert.doesNotMatch(err.hint ?? '', /<CREDENTIALS>/);
    assert.match(err.hint ?? '', /user:password@ right before the host/);
    return true;
  });
});
