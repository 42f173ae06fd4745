/**
 * A real FTP server for tests (ftp-srv, in-process) on 127.0.0.1:0 with passive ports on
 * 127.0.0.1: anonymous and user logins, files in a temp root, a log of connections, logins
 * and reads (with their REST offset), and scripted cuts of the next read of a file.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo, Server, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import type { TestContext } from 'node:test';
import { FileSystem, FtpSrv, type FtpConnection } from 'ftp-srv';
import { tempDir } from '../fs.js';

export interface FtpRead {
  path: string;
  start: number;
}

export type FtpCut = { afterBytes: number; mode: 'error' | 'short' | 'stall' };

export interface FtpTestServer {
  url: string;
  port: number;
  root: string;
  /** TCP connections accepted on the control port. */
  connections: number;
  logins: Array<{ username: string; ok: boolean }>;
  reads: FtpRead[];
  setFile(path: string, body: Buffer | string): Promise<void>;
  mkdir(path: string): Promise<void>;
  /** Cut the next read of `path` after some bytes: 'error' breaks the data connection, 'short' ends it early with 226, 'stall' goes silent. */
  cutNext(path: string, cut: FtpCut): void;
  close(): Promise<void>;
}

export interface FtpStartOptions {
  anonymous?: boolean;
  users?: Record<string, string>;
}

const quietLog = {
  child: () => quietLog, trace: () => undefined, debug: () => undefined, info: () => undefined,
  warn: () => undefined, error: () => undefined, fatal: () => undefined,
};

function cutStream(source: Readable, cut: FtpCut): Readable {
  let sent = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const room = cut.afterBytes - sent;
      if (room <= 0) return cb();
      const piece = chunk.subarray(0, room);
      sent += piece.length;
      this.push(piece);
      if (sent >= cut.afterBytes) {
        source.destroy();
        if (cut.mode === 'error') setTimeout(() => limiter.destroy(new Error('test cut')), 20);
        else if (cut.mode === 'short') setTimeout(() => limiter.end(), 20);
        // 'stall': keep the data connection open and silent.
      }
      cb();
    },
  });
  source.pipe(limiter);
  return limiter;
}

let nextPasvBase = 41000 + Math.floor(Math.random() * 200) * 40;

export async function startFtpServer(t: TestContext | undefined, options: FtpStartOptions = {}): Promise<FtpTestServer> {
  const root = await tempDir(t, 'cg-ftp-');
  const users = options.users ?? { alice: 's3cret-ftp' };
  const cuts = new Map<string, FtpCut>();
  const reads: FtpRead[] = [];
  const logins: FtpTestServer['logins'] = [];
  const pasvMin = nextPasvBase;
  nextPasvBase = nextPasvBase >= 49000 ? 41000 : nextPasvBase + 40;

  class RecordingFs extends FileSystem {
    override read(fileName: string, opts: { start?: number } = {}): Promise<unknown> {
      const clientPath = join('/', this.cwd, fileName);
      reads.push({ path: clientPath, start: opts.start ?? 0 });
      const cut = cuts.get(clientPath);
      if (cut) cuts.delete(clientPath);
      return Promise.resolve(super.read(fileName, opts)).then((res: { stream: Readable; clientPath: string }) => {
        if (!cut) return res;
        return { stream: cutStream(res.stream, cut), clientPath: res.clientPath };
      });
    }
  }

  const ftpServer = new FtpSrv({
    url: 'ftp://127.0.0.1:0', pasv_url: '127.0.0.1', pasv_min: pasvMin, pasv_max: pasvMin + 39,
    anonymous: options.anonymous ?? true, greeting: 'conda-gateway test server', log: quietLog,
  });
  ftpServer.on('login', ({ connection, username, password }: { connection: FtpConnection; username: string; password: string }, resolve, reject) => {
    const ok = (username === 'anonymous' && (options.anonymous ?? true)) || (Object.hasOwn(users, username) && users[username] === password);
    logins.push({ username, ok });
    if (ok) resolve({ fs: new RecordingFs(connection, { root, cwd: '/' }) });
    else reject(new Error('Login incorrect.'));
  });
  const tcp = (ftpServer as unknown as { server: Server }).server;
  const state = { connections: 0 };
  const sockets = new Set<Socket>();
  tcp.on('connection', (s: Socket) => {
    state.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await ftpServer.listen();
  const port = (tcp.address() as AddressInfo).port;

  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const s of sockets) s.destroy();
    await Promise.race([ftpServer.close(), new Promise((r) => setTimeout(r, 2000))]);
  };
  t?.after(close);

  return {
    url: `ftp://127.0.0.1:${port}`,
    port,
    root,
    get connections() {
      return state.connections;
    },
    logins,
    reads,
    async setFile(path, body) {
      const full = join(root, path);
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, body);
    },
    async mkdir(path) {
      await mkdir(join(root, path), { recursive: true });
    },
    cutNext(path, cut) {
      cuts.set(path, cut);
    },
    close,
  };
}
