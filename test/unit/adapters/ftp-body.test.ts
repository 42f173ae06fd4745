import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FtpBody } from '../../../src/adapters/ftp/body.js';

async function readAll(body: FtpBody): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of body.out) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

function write(body: FtpBody, data: string): Promise<Error | null | undefined> {
  return new Promise((resolve) => body.sink.write(Buffer.from(data), (err) => resolve(err)));
}

test('the body ends only when the transfer is declared complete with all announced bytes', async () => {
  const body = new FtpBody();
  const reading = readAll(body);
  await write(body, 'hello ');
  await write(body, 'world');
  body.finish(11, 'ftp://h/x');
  assert.equal((await reading).toString(), 'hello world');
});

test('fewer bytes than announced errors the body with a resumable ECONNRESET', async () => {
  const body = new FtpBody();
  const reading = readAll(body);
  await write(body, 'hello');
  body.finish(11, 'ftp://h/x');
  await assert.rejects(reading, (e: unknown) => (e as { code?: string }).code === 'ECONNRESET' && /after 5 of 11 bytes/.test(String(e)));
});

test('a bounded range passes on exactly its bytes, then refuses the rest', async () => {
  const body = new FtpBody(7);
  body.sink.on('error', () => undefined); // basic-ftp listens here and drops the data connection
  const reading = readAll(body);
  assert.equal(await write(body, 'hello '), null);
  const refused = await write(body, 'world');
  assert.ok(refused instanceof Error);
  assert.equal(body.limitReached, true);
  assert.equal((await reading).toString(), 'hello w');
});

test('a reader that gives up triggers onCancel once and makes further writes fail', async () => {
  let cancelled = 0;
  const body = new FtpBody(undefined, () => cancelled++);
  body.out.destroy();
  body.sink.on('error', () => undefined);
  assert.ok((await write(body, 'late')) instanceof Error);
  body.fail(new Error('later failure'));
  assert.equal(cancelled, 1);
});
