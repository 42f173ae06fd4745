/**
 * The one place package extraction gets a zstd decoder: the repodata decoder (Node's own
 * zstd where it exists, else fzstd; frame windows checked before decoding). Swapping in a
 * native binding means changing this file or that one, nothing else.
 */
import type { Transform } from 'node:stream';
import { createZstdDecoder } from '../../repodata/zst.js';

export function zstdDecompressor(): Promise<Transform> {
  return createZstdDecoder();
}
