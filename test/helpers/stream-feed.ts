/**
 * Feed an archive's bytes to a StreamedExtraction as download()'s onChunk would (in file
 * order, odd-sized chunks so headers straddle them), for tests of the streamed path
 * without a server.
 */
import { StreamedExtraction, type StreamExtractOptions } from '../../src/packages/extract/stream-extract.js';

export function feedStreamed(opts: StreamExtractOptions, body: Buffer, chunkBytes = 7_777): StreamedExtraction {
  const streamed = new StreamedExtraction(opts);
  for (let at = 0; at < body.length; at += chunkBytes) {
    // A view of a reused buffer, as a socket read may be: the callee must copy what it keeps.
    const view = Buffer.from(body.subarray(at, at + chunkBytes));
    streamed.onChunk(view, at);
    view.fill(0xee);
  }
  return streamed;
}
