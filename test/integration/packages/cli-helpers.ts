/** Helpers for CLI fetch tests: spawn the CLI from source, a trickling Range-aware route, JSON-line capture. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FileServer } from '../../helpers/servers/http.js';
import { etagOf } from '../../helpers/servers/http.js';

const ENTRY = fileURLToPath(new URL('./run-cli.ts', import.meta.url));
/** Absolute, so the child may run in any directory. */
const TSX = import.meta.resolve('tsx');

export interface CliRun {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  stderr: () => string;
  /** Resolves with the exit code (or 128+signal). */
  exit: Promise<number>;
  waitFor(pred: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<void>;
}

export function spawnCli(args: string[], cwd: string): CliRun {
  const child = spawn(process.execPath, ['--import', TSX, ENTRY, ...args], {
    cwd, env: { ...process.env, CONDA_GATEWAY_NO_PROGRESS: '1', CONDA_REMOTE_BACKOFF_FACTOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{ pred: (l: Record<string, unknown>) => boolean; resolve: () => void }> = [];
  let buffer = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (!line.trim()) continue;
      const obj = JSON.parse(line) as Record<string, unknown>;
      lines.push(obj);
      for (const w of [...waiters]) if (w.pred(obj)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exit = new Promise<number>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal === 'SIGKILL' ? 137 : 128))));
  return {
    child, lines, exit, stderr: () => err,
    waitFor(pred, timeoutMs = 30_000) {
      if (lines.some(pred)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out; stderr: ${err}`)), timeoutMs);
        waiters.push({ pred, resolve: () => { clearTimeout(timer); resolve(); } });
        void exit.then(() => { clearTimeout(timer); reject(new Error(`exited before the awaited line; stderr: ${err}`)); });
      });
    },
  };
}

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
