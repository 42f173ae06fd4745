/**
 * The hashing side of the download data path, run in worker threads so that sha256/md5
 * use the second core while the main thread receives bytes and the thread pool writes
 * them. Chunks are not copied or transferred: the worker reads each range back from the file
 * right after the main thread wrote it (from the page cache), so no memory crosses
 * threads: transferring 512 KiB buffers back and forth made V8 count them as new external
 * memory and run a full GC every few dozen MiB. Messages are answered in order.
 *
 * The worker source is plain CommonJS evaluated from a string (no file to resolve, no
 * loader needed under tsx or a bundler); it only uses node:crypto, node:fs and
 * node:worker_threads.
 */
export const HASH_WORKER_SOURCE = String.raw`
'use strict';
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { readSync } = require('node:fs');
const jobs = new Map();
const READ = 1 << 20;
let scratch;

function job(id) {
  const j = jobs.get(id);
  if (!j) throw new Error('unknown hash job ' + id);
  return j;
}
function update(j, view) {
  j.sha256.update(view);
  if (j.md5) j.md5.update(view);
  j.bytes += view.byteLength;
}
const ops = {
  open(m) { jobs.set(m.id, { sha256: createHash('sha256'), md5: m.md5 ? createHash('md5') : null, bytes: 0 }); },
  range(m) {
    // Bytes the main thread has just written (or the kept prefix of a resumed file), read
    // back from its open descriptor: from the page cache, so nothing crosses threads.
    const j = job(m.id);
    scratch = scratch || Buffer.allocUnsafe(READ);
    const end = m.position + m.length;
    for (let position = m.position; position < end;) {
      const n = readSync(m.fd, scratch, 0, Math.min(READ, end - position), position);
      if (n === 0) throw Object.assign(new Error('the file ended at ' + position + ' before ' + end), { code: 'ESHORTREAD' });
      update(j, scratch.subarray(0, n));
      position += n;
    }
  },
  digest(m) {
    const j = job(m.id);
    jobs.delete(m.id);
    return { sha256: j.sha256.digest('hex'), md5: j.md5 ? j.md5.digest('hex') : undefined, bytes: j.bytes };
  },
  drop(m) { jobs.delete(m.id); },
  crash() { process.exit(3); },
};
parentPort.on('message', (m) => {
  let reply;
  try {
    reply = { seq: m.seq, value: ops[m.op](m) };
  } catch (err) {
    reply = { seq: m.seq, error: { message: String(err && err.message || err), code: err && err.code } };
  }
  parentPort.postMessage(reply);
});
`;
