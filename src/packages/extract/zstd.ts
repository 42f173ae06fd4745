/**
 * The one place package extraction gets a zstd decoder: the `zstd` program when it is
 * installed (native speed, its own process), else the repodata decoder (Node's own zstd
 * where it exists, else fzstd; frame windows checked before decoding). Swapping in a
 * native binding means changing this file, nothing else.
 */
import type { Duplex, Transform } from 'node:stream';
import { createZstdDecoder } from '../../repodata/zst.js';
import { hasTool, toolDecoder } from './tool-decoder.js';

export async function zstdDecompressor(options: { nativeTools?: boolean } = {}): Promise<Transform | Duplex> {
  if (options.nativeTools !== false && await hasTool('zstd')) return toolDecoder('zstd');
  return createZstdDecoder();
}
