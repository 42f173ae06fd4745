import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { regionInConfig, s3Secrets, s3SettingsFrom } from '../../../src/adapters/s3/config.js';
import { s3Failure } from '../../../src/adapters/s3/errors.js';
import { queryString } from '../../../src/adapters/s3/request-handler.js';
import { isGatewayError } from '../../../src/index.js';
import { tempDir } from '../../helpers/fs.js';

test('with nothing configured the region is us-east-1, like boto3, and the SDK chain supplies credentials', async (t) => {
  const home = await tempDir(t);
  const s = await s3SettingsFrom({}, home);
  assert.equal(s.region, 'us-east-1');
  assert.equal(s.credentials, undefined);
  assert.equal(s.endpoint, undefined);
  assert.equal(s.forcePathStyle, false);
});

test('keys, session token, region and endpoint come from the given environment', async (t) => {
  const home = await tempDir(t);
  const s = await s3SettingsFrom({
    AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'sekret', AWS_SESSION_TOKEN: 'tok',
    AWS_DEFAULT_REGION: 'eu-west-3', AWS_ENDPOINT_URL: 'http://127.0.0.1:9000', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9001/',
  }, home);
  assert.deepEqual(s.credentials, { accessKeyId: 'AKID', secretAccessKey: 'sekret', sessionToken: 'tok' });
  assert.equal(s.region, 'eu-west-3');
  assert.equal(s.endpoint, 'http://127.0.0.1:9001');
  assert.equal(s.forcePathStyle, true);
  assert.deepEqual(s3Secrets(s), ['sekret', 'tok']);
});

test('the profile\'s region is read from the AWS config file', async (t) => {
  const home = await tempDir(t);
  await mkdir(join(home, '.aws'));
  await writeFile(join(home, '.aws', 'config'), '[default]\nregion = us-west-2\n\n[profile work]\n# comment\nregion=ap-south-1\n');
  assert.equal((await s3SettingsFrom({}, home)).region, 'us-west-2');
  const work = await s3SettingsFrom({ AWS_PROFILE: 'work' }, home);
  assert.equal(work.region, 'ap-south-1');
  assert.equal(work.profile, 'work');
  assert.equal(regionInConfig('[profile x]\nregion = a\n', 'y'), undefined);
});

test('a malformed endpoint is a CG_CONFIG_INVALID error', async (t) => {
  const home = await tempDir(t);
  await assert.rejects(s3SettingsFrom({ AWS_ENDPOINT_URL: 'not a url' }, home), (e: unknown) => isGatewayError(e) && e.code === 'CG_CONFIG_INVALID');
});

test('S3 error names map to HTTP statuses; transport errors have none', () => {
  const err = (name: string, status?: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
  assert.equal(s3Failure(err('NoSuchKey', 404))?.status, 404);
  assert.equal(s3Failure(err('NoSuchBucket', 404))?.status, 404);
  assert.equal(s3Failure(err('AccessDenied', 403))?.status, 403);
  assert.equal(s3Failure(err('SignatureDoesNotMatch'))?.status, 403);
  assert.equal(s3Failure(err('InvalidRange', 416))?.status, 416);
  assert.equal(s3Failure(err('SlowDown', 503))?.status, 503);
  assert.equal(s3Failure(Object.assign(new Error('reset'), { code: 'ECONNRESET' })), undefined);
});

test('the query string is built as SigV4 signs it', () => {
  assert.equal(queryString({ 'x-id': 'GetObject', prefix: "a b/c'", list: ['2', '1'], flag: null }), "flag&list=2&list=1&prefix=a%20b%2Fc%27&x-id=GetObject");
});
