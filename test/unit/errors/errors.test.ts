import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { ERROR_CODES, ChecksumMismatchError, CondaHTTPError, GatewayError, OfflineError, ProxyError, isGatewayError, hasCode } from '../../../src/index.js';
import { formatElapsed, httpErrorFromResponse, httpHelpText } from '../../../src/errors/index.js';
import { Response, Headers } from 'undici';

const SECRET_URL = 'https://user:s3cr3t@repo.example.com/t/tk-s3cr3t/chan/linux-64/x.conda?X-Amz-Signature=sigs3cr3t';

test('every code has a family, an exit status and a hint', () => {
  for (const [code, spec] of Object.entries(ERROR_CODES)) {
    assert.match(code, /^CG_[A-Z_]+$/);
    assert.ok(spec.hint.length > 10 && spec.doc.length > 10, code);
    assert.ok(Number.isInteger(spec.exitCode) && spec.exitCode > 0, code);
  }
});

test('no secret survives String, stack, inspect or JSON of any error code', () => {
  for (const code of Object.keys(ERROR_CODES) as Array<keyof typeof ERROR_CODES>) {
    const cause = new Error(`low-level failure talking to ${SECRET_URL}`);
    const err = new GatewayError(`failed on ${SECRET_URL}`, { code, url: SECRET_URL, cause, details: { note: SECRET_URL } });
    for (const shown of [String(err), err.stack ?? '', inspect(err), JSON.stringify(err), inspect(err.cause)]) {
      assert.ok(!/s3cr3t/.test(shown), `${code}: ${shown}`);
    }
  }
});

test('CondaHTTPError reads like conda: status, reason, masked url, elapsed, help text', () => {
  const err = new CondaHTTPError({ url: SECRET_URL, status: 404, elapsedMs: 1260 });
  assert.match(err.message, /^HTTP 404 NOT FOUND for url <https:\/\/repo\.example\.com\/t\/<TOKEN>\/chan\/linux-64\/x\.conda\?X-Amz-Signature=<REDACTED>>\nElapsed: 00:01\.260000\n\nAn HTTP error occurred/);
  assert.equal(err.name, 'CondaHTTPError');
  assert.equal(err.code, 'CG_HTTP_STATUS');
  const refused = new CondaHTTPError({ url: 'http://127.0.0.1:9/z.conda' });
  assert.equal(refused.message.split('\n')[0], 'HTTP 000 CONNECTION FAILED for url <http://127.0.0.1:9/z.conda>');
  assert.match(refused.message, /\nElapsed: -\n/);
});

test('401 and 403 help texts depend on a token and on the channel alias', () => {
  assert.match(httpHelpText(401, 'https://x.org/t/tk-1/c'), /^The token given for the URL is invalid/);
  assert.match(httpHelpText(401, 'https://conda.anaconda.org/c'), /invalid credentials for this channel/);
  assert.match(httpHelpText(401, 'https://private.example.com/c'), /^The credentials you have provided for this URL are invalid/);
  assert.match(httpHelpText(403, 'https://x.org/t/tk-1/c'), /insufficient permissions/);
  assert.match(httpHelpText(403, 'https://mirror.corp/c', 'https://mirror.corp'), /\(a\) You are not authenticated/);
  assert.match(httpHelpText(403, 'https://other.example.com/c'), /^You do not have permission to access this resource/);
});

test('reason and message come from a JSON body; detail from problem+json', async () => {
  const json = new Response(JSON.stringify({ reason: 'CUSTOM REASON', message: 'custom server message' }), {
    status: 418, headers: new Headers({ 'content-type': 'application/json' }),
  });
  const err = await httpErrorFromResponse(json, { url: 'http://h/x' });
  assert.match(err.message, /^HTTP 418 CUSTOM REASON for url <http:\/\/h\/x>/);
  assert.match(err.message, /\n\ncustom server message$/);
  const problem = new Response(JSON.stringify({ detail: 'token expired' }), {
    status: 401, headers: new Headers({ 'content-type': 'application/problem+json' }),
  });
  assert.match((await httpErrorFromResponse(problem, { url: 'http://h/x' })).message, /token expired$/);
  const fastapi = new Response(JSON.stringify({ detail: [{ msg: 'x' }] }), {
    status: 422, headers: new Headers({ 'content-type': 'application/problem+json' }),
  });
  assert.match((await httpErrorFromResponse(fastapi, { url: 'http://h/x' })).message, /An HTTP error occurred/);
});

test('ChecksumMismatchError carries expected and actual in conda wording', () => {
  const err = new ChecksumMismatchError({ url: SECRET_URL, target: '/p/x.conda', check: 'sha256', expected: 'aa', actual: 'bb' });
  assert.match(err.message, /^Conda detected a mismatch between the expected content and downloaded content\nfor url '/);
  assert.match(err.message, /  expected sha256: aa\n  actual sha256: bb\n$/);
  assert.ok(!err.message.includes('s3cr3t'));
  assert.deepEqual([err.expected, err.actual, err.check], ['aa', 'bb', 'sha256']);
});

test('ProxyError and OfflineError use conda messages; guards recognise our errors', () => {
  assert.match(new ProxyError().message, /^Conda cannot proceed due to an error in your proxy configuration\./);
  const offline = new OfflineError('https://h/x');
  assert.equal(offline.message, 'EnforceUnusedAdapter called with url https://h/x.\nThis command is using a remote connection in offline mode.');
  assert.ok(isGatewayError(offline) && hasCode(offline, 'CG_OFFLINE'));
  assert.ok(!isGatewayError(new Error('x')));
  assert.ok(!isGatewayError({ code: 'CG_OFFLINE' }));
});

test('toJSON is masked and complete', () => {
  const err = new CondaHTTPError({ url: SECRET_URL, status: 503, attempts: 4, elapsedMs: 6000 });
  const json = err.toJSON();
  assert.equal(json.code, 'CG_HTTP_STATUS');
  assert.equal(json.error, 'CondaHTTPError');
  assert.equal(json.attempts, 4);
  assert.ok(!JSON.stringify(json).includes('s3cr3t'));
  assert.equal(formatElapsed(61_500), '01:01.500000');
});

test('a programming error is reported as CG_INTERNAL, not as a connection failure; system errors keep their codes', async () => {
  const { toGatewayError } = await import('../../../src/session/index.js');
  const bug = toGatewayError(new TypeError("Cannot read properties of undefined (reading 'x')"), { url: 'https://u:s3cr3t@h/x' });
  assert.equal(bug.code, 'CG_INTERNAL');
  assert.match(bug.hint ?? '', /bug in conda-gateway/);
  assert.ok(!String(bug).includes('s3cr3t'));
  const reset = toGatewayError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), { url: 'https://h/x' });
  assert.equal(reset.code, 'CG_CONNECTION');
  const badUrl = toGatewayError(Object.assign(new TypeError('Invalid URL'), { code: 'ERR_INVALID_URL' }), { url: 'https://h/x' });
  assert.equal(badUrl.code, 'CG_CONNECTION');
});

test("conda's CondaHTTPError.json: the parsed error body is kept, masked, and {} when there is none", async () => {
  const url = 'https://user:pw-s3cr3t@h.example/t/tk-s3cr3t-1/c/noarch/x.conda';
  const body = { reason: 'DENIED', message: 'no', detail: { who: 'tk-s3cr3t-1', where: url, list: [1, true, null] }, 'key pw-s3cr3t': 2 };
  const res = new Response(JSON.stringify(body), { status: 403, headers: new Headers({ 'content-type': 'application/json' }) });
  const err = await httpErrorFromResponse(res, { url });
  assert.equal(err.json.reason, 'DENIED');
  assert.deepEqual((err.json.detail as Record<string, unknown>).list, [1, true, null]);
  assert.doesNotMatch(JSON.stringify(err.json), /s3cr3t/, 'the token, password and URL credentials are masked');
  assert.doesNotMatch(JSON.stringify(err), /s3cr3t/);
  assert.equal((err.toJSON().details.json as Record<string, unknown>).reason, 'DENIED', 'shown in --json output as conda\'s dump_map does');
  const plain = await httpErrorFromResponse(new Response('not json', { status: 500 }), { url: 'http://h/x' });
  assert.deepEqual(plain.json, {});
  const tooBig = new Response(JSON.stringify({ message: 'x'.repeat(70_000) }), { status: 400 });
  assert.deepEqual((await httpErrorFromResponse(tooBig, { url: 'http://h/x' })).json, {}, 'a body over 64 KiB is not parsed');
});

test("conda chooses the 401/403 text from the real URL's /t/<token>/ and prints the URL masked", () => {
  for (const [status, text] of [[401, /^The token given for the URL is invalid/m], [403, /^The token given for the URL has insufficient permissions/m]] as const) {
    const err = new CondaHTTPError({ url: 'https://conda.example.org/t/tk-s3cr3t-9/private/noarch/x.conda', status });
    assert.match(err.message, text);
    assert.match(err.message, /<https:\/\/conda\.example\.org\/t\/<TOKEN>\/private\/noarch\/x\.conda>/);
    assert.doesNotMatch(err.message, /s3cr3t/);
  }
});
