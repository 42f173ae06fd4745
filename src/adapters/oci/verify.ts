/**
 * A pass-through stream that proves a whole blob against its OCI digest (and size) as
 * it streams: a body whose bytes are not the blob ends with a CG_CHECKSUM_MISMATCH error,
 * never with a clean end.
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ChecksumMismatchError } from '../../errors/classes.js';

export function digestVerifier(digest: string, size: number | undefined, shownUrl: string): Transform {
  const expected = digest.slice('sha256:'.length);
  const hash = createHash('sha256');
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, callback: TransformCallback) {
      hash.update(chunk);
      bytes += chunk.length;
      if (size !== undefined && bytes > size) {
        callback(new ChecksumMismatchError({ url: shownUrl, target: '(OCI blob)', check: 'size', expected: size, actual: `more than ${size}` }));
        return;
      }
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      if (size !== undefined && bytes !== size) {
        callback(new ChecksumMismatchError({ url: shownUrl, target: '(OCI blob)', check: 'size', expected: size, actual: bytes }));
        return;
      }
      const actual = hash.digest('hex');
      if (actual !== expected) {
        callback(new ChecksumMismatchError({ url: shownUrl, target: '(OCI blob digest)', check: 'sha256', expected, actual }));
        return;
      }
      callback();
    },
  });
}
