import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ftpReplyCode, isUnsupportedCommand, loginFrom, statusForReply } from '../../../src/adapters/ftp/replies.js';
import { isGatewayError } from '../../../src/index.js';

const url = new URL('ftp://h/x');

test('no Authorization header means an anonymous login', () => {
  assert.deepEqual(loginFrom(null, url), { user: 'anonymous', password: 'anonymous@', anonymous: true });
});

test('Basic credentials become the FTP user and password (a colon may be in the password)', () => {
  const header = `Basic ${Buffer.from('alice:p:ss').toString('base64')}`;
  assert.deepEqual(loginFrom(header, url), { user: 'alice', password: 'p:ss', anonymous: false });
});

test('another Authorization scheme is conda\'s "Invalid form of Authentication" as CG_CREDENTIALS_INVALID', () => {
  assert.throws(() => loginFrom('Bearer tok-123', url),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_CREDENTIALS_INVALID' && !e.message.includes('tok-123'));
});

test('reply codes map to HTTP statuses that download() understands', () => {
  assert.equal(statusForReply(530).status, 401);
  assert.equal(statusForReply(550).status, 404);
  assert.equal(statusForReply(551).status, 404);
  assert.equal(statusForReply(553).status, 400);
  assert.equal(statusForReply(421).status, 503);
  assert.equal(statusForReply(450).status, 503);
  assert.equal(statusForReply(599).status, 400);
  assert.equal(isUnsupportedCommand(502), true);
  assert.equal(isUnsupportedCommand(550), false);
});

test('only basic-ftp\'s FTPError carries a reply code', () => {
  const ftpError = Object.assign(new Error('550 nope'), { name: 'FTPError', code: 550 });
  assert.equal(ftpReplyCode(ftpError), 550);
  assert.equal(ftpReplyCode(Object.assign(new Error('x'), { code: 'ECONNRESET' })), undefined);
});
