/**
 * The one place package extraction gets a zstd decoder, fastest first: a native decoder in
 * this process (Node's own zstd, else the `zstd-napi` binding, through the repodata
 * decoder with its frame-window guard), else the `zstd` program (native speed, but a
 * process spawn per inner tarball and every decoded byte through a pipe), else fzstd
 * (pure JS). zstd decodes at several hundred MB/s, so in-process decoding costs less than
 * the spawn and the pipe it replaces (see the profile in the extract notes).
 */
import type { Duplex, Transform } from 'node:stream';
import { createZstdDecoder, zstdBackend } from '../../repodata/zst.js';
import { hasTool, toolDecoder } from './tool-decoder.js';

/** `nativeTools: false`: never the program (in-process decoders only). */
export async function zstdDecompressor(options: { nativeTools?: boolean } = {}): Promise<Transform | Duplex> {
  if ((await zstdBackend()) !== 'fzstd') return createZstdDecoder();
  if (options.nativeTools !== false && await hasTool('zstd')) return toolDecoder('zstd');
  return createZstdDecoder();
}
