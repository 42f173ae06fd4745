/** Helpers for CLI fetch tests: a trickling Range-aware route (the CLI runs through test/helpers/cli.ts). */
import type { FileServer } from '../../helpers/servers/http.js';
import { etagOf } from '../../helpers/servers/http.js';

/** Serve `body` at `path` honouring Range; while `state.slow`, trickle 32 KiB every 40 ms. */
export function trickleRoute(server: FileServer, path: string, body: Buffer, state: { slow: boolean }): void {
  const etag = etagOf(body);
  server.route(path, (req, res) => {
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const headers: Record<string, string> = { 'accept-ranges': 'bytes', etag, 'content-length': String(body.length - start) };
    if (start > 0) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
    else res.writeHead(200, headers);
    if (!state.slow) {
      res.end(body.subarray(start));
      return;
    }
    let at = start;
    const timer = setInterval(() => {
      const next = Math.min(at + 32 * 1024, body.length);
      res.write(body.subarray(at, next));
      at = next;
      if (at >= body.length) {
        clearInterval(timer);
        res.end();
      }
    }, 40);
    res.on('close', () => clearInterval(timer));
  });
}
