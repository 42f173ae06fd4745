import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { SafeUrl } from '../../../src/index.js';
import { maskUrl, redactText } from '../../../src/redact/index.js';

test('maskUrl drops user:pass and masks the anaconda token', () => {
  assert.equal(maskUrl('https://user:p%40ss@conda.example.com/t/tk-123-456/chan/linux-64/x.conda'),
    'https://conda.example.com/t/<TOKEN>/chan/linux-64/x.conda');
  assert.equal(maskUrl('https://conda.anaconda.org/t/tk-1/conda-forge'), 'https://conda.anaconda.org/t/<TOKEN>/conda-forge');
});

test('maskUrl masks signed query parameters', () => {
  const masked = maskUrl('https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA1%2F2&X-Amz-Signature=abcdef&x=1');
  assert.ok(!masked.includes('abcdef') && !masked.includes('AKIA1'));
  assert.match(masked, /x=1$/);
});

test('redactText masks URLs inside free text and given literal secrets', () => {
  const text = 'failed: GET ftp://bob:hunter2@ftp.example.com/pub/x and token tk-42 in https://h/t/tk-42/c/';
  const out = redactText(text, ['tk-42']);
  assert.ok(!out.includes('hunter2'));
  assert.ok(!out.includes('tk-42'));
});

test('SafeUrl never prints credentials: String, JSON and inspect', () => {
  const url = new SafeUrl('https://alice:s3cret@example.com/t/tk-9/chan');
  for (const shown of [String(url), JSON.stringify({ url }), inspect(url), `${url}`]) {
    assert.ok(!shown.includes('s3cret') && !shown.includes('tk-9'), shown);
  }
  assert.equal(url.withCredentials(), 'https://alice:s3cret@example.com/t/tk-9/chan');
});

test('masking twice gives the same text', () => {
  const once = redactText('https://u:p@h/t/tk-1/c?X-Amz-Signature=abc');
  assert.equal(redactText(once), once);
});
