/**
 * A real OCI registry for tests: Debian's `docker-registry` (the CNCF distribution server)
 * on 127.0.0.1 with token auth from a small RS256 JWT token server (its certificate is
 * the registry's `rootcertbundle`), filled through the registry's HTTP API in the
 * ghcr.io/channel-mirrors layout ("v0"). A relay in front can cut one blob response
 * mid-body. `registryAvailable()` says whether the binary is installed.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, createSign, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REGISTRY_BIN = '/usr/bin/docker-registry';

export function registryAvailable(): boolean {
  return existsSync(REGISTRY_BIN);
}

export const OCI_MEDIA = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  condaV1: 'application/vnd.conda.package.v1',
  condaV2: 'application/vnd.conda.package.v2',
  repodata: 'application/vnd.conda.repodata.v1+json',
  repodataZst: 'application/vnd.conda.repodata.v1+json+zst',
  shardIndex: 'application/vnd.conda.repodata.shards.v1+msgpack+zst',
  info: 'application/vnd.conda.info.v1.tar+gzip',
} as const;

export interface TokenServerOptions {
  /** user → password; these users may pull private repositories. */
  users?: Record<string, string>;
  /** Anonymous tokens grant pull. @default true */
  anonymousPull?: boolean;
  /** Lifetime told to clients (expires_in). @default 300 */
  expiresIn?: number;
  /** 'none': the registry itself asks for nothing (put a Basic-auth front before it). @default 'token' */
  auth?: 'token' | 'none';
  /**
   * Grant at most this many of the repositories one request asks for (the first ones): the
   * token is issued, but without the others, as token servers do for repositories they will
   * not grant. @default unlimited
   */
  maxGrantsPerToken?: number;
  /** Answer 400 to a request with more than one `scope` (a token service that cannot batch). @default false */
  singleScopeOnly?: boolean;
}

export interface TokenServer {
  realm: string;
  /** One entry per token request; `scope` is the first scope asked for, `scopes` all of them. */
  readonly requests: Array<{ scope: string; scopes: string[]; user?: string; status: number }>;
  /** TCP connections accepted (keep-alive reuse shows as few). */
  readonly connections: number;
  /** Every token handed to a client (to check that none leaks). */
  readonly issued: string[];
  /** The next `n` tokens are already expired for the registry while claiming a long life. */
  expireNext(n: number): void;
  /** A token for `actions` on one or more repositories, signed like the others (the fill helper pushes with it). */
  mint(repository: string | string[], actions: string[]): string;
  close(): Promise<void>;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

async function makeCert(dir: string): Promise<{ certPath: string; key: string; certDer: string }> {
  const keyPath = join(dir, 'token.key');
  const certPath = join(dir, 'token.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath,
    '-days', '2', '-subj', '/CN=conda-gateway test token issuer']);
  const pem = await readFile(certPath, 'utf8');
  const certDer = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return { certPath, key: await readFile(keyPath, 'utf8'), certDer };
}

async function startTokenServer(dir: string, opts: TokenServerOptions): Promise<TokenServer & { certPath: string; service: string; issuer: string }> {
  const { certPath, key, certDer } = await makeCert(dir);
  const service = 'conda-gateway-test-registry';
  const issuer = 'conda-gateway-test-issuer';
  const users = opts.users ?? {};
  const requests: TokenServer['requests'] = [];
  const issued: string[] = [];
  let expired = 0;

  function sign(access: Array<{ type: string; name: string; actions: string[] }>, subject: string, expiredToken: boolean): string {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer] };
    const claims = {
      iss: issuer, sub: subject, aud: service, jti: randomUUID(), access,
      iat: expiredToken ? now - 600 : now - 5, nbf: expiredToken ? now - 600 : now - 5, exp: expiredToken ? now - 300 : now + 600,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(input).sign(key);
    return `${input}.${b64url(signature)}`;
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    // Several scope parameters, and several space-separated scopes in one, as the token spec allows.
    const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    const scope = scopes[0] ?? '';
    let user: string | undefined;
    const auth = req.headers.authorization;
    if (auth?.startsWith('Basic ')) {
      const [u, ...p] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
      if (!u || users[u] === undefined || users[u] !== p.join(':')) {
        requests.push({ scope, scopes, user: u, status: 401 });
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"incorrect username or password"}');
        return;
      }
      user = u;
    }
    if (!user && opts.anonymousPull === false) {
      requests.push({ scope, scopes, status: 401 });
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"authentication required"}');
      return;
    }
    if (opts.singleScopeOnly && scopes.length > 1) {
      requests.push({ scope, scopes, status: 400 });
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"details":"one scope per request"}');
      return;
    }
    const access = scopes.slice(0, opts.maxGrantsPerToken ?? scopes.length).flatMap((one) => {
      const m = /^repository:([^:]+):(.+)$/.exec(one);
      return m ? [{ type: 'repository', name: m[1]!, actions: m[2]!.split(',').filter((a) => a === 'pull') }] : [];
    });
    const isExpired = expired > 0;
    if (isExpired) expired--;
    requests.push({ scope, scopes, ...(user ? { user } : {}), status: 200 });
    const token = sign(access, user ?? 'anonymous', isExpired);
    issued.push(token);
    res.writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ token, access_token: token, expires_in: opts.expiresIn ?? 300, issued_at: new Date().toISOString() }));
  });
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`, requests, issued, certPath, service, issuer,
    get connections() {
      return connections;
    },
    expireNext(n) {
      expired = n;
    },
    mint(repository, actions) {
      const names = Array.isArray(repository) ? repository : [repository];
      return sign(names.map((name) => ({ type: 'repository', name, actions })), 'pusher', false);
    },
    close: () => closeServer(server),
  };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

export interface PushedPackage {
  repository: string;
  tag: string;
  digest: string;
  sha256: string;
  size: number;
}

export interface BasicFront {
  host: string;
  /** Authorization headers seen, in order ('' when none). */
  readonly seen: string[];
  close(): Promise<void>;
}

/** A Basic-auth-only front for a registry without auth (like ECR, or nginx with auth_basic). */
export async function startBasicFront(registryHost: string, user: string, password: string): Promise<BasicFront> {
  const [rhost, rport] = registryHost.split(':');
  const seen: string[] = [];
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization ?? '');
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="registry"', 'content-type': 'application/json' })
        .end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    const headers = { ...req.headers };
    delete headers.authorization;
    const up = httpRequest({ host: rhost, port: Number(rport), method: req.method, path: req.url, headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => closeServer(server) };
}

export interface OciTestRegistry {
  /** `127.0.0.1:<port>` of the registry itself. */
  host: string;
  /** `127.0.0.1:<port>` of the relay in front of it (can cut a blob mid-body). */
  relayHost: string;
  /** The storage directory (blobs live under docker/registry/v2/blobs). */
  root: string;
  /** The registry process (benchmarks read its CPU time). */
  pid: number | undefined;
  tokens: TokenServer;
  /** Requests seen by the relay: method and path. */
  readonly relayed: string[];
  /** What the registry answered through the relay, in order: request line, status, whether it carried Authorization, the challenge's `error`. */
  readonly answers: Array<{ request: string; status: number; authorized: boolean; error?: string }>;
  pushBlob(repository: string, data: Buffer): Promise<string>;
  pushManifest(repository: string, tag: string, layers: Array<{ mediaType: string; data: Buffer }>, annotations?: Record<string, string>): Promise<string[]>;
  /** A package in the v0 layout: `<channel>/<subdir>/<name>:<version>-<build>`. */
  pushPackage(channel: string, subdir: string, fileName: string, data: Buffer): Promise<PushedPackage>;
  /** `<channel>/<subdir>/repodata.json:latest` with a json and a zst layer. */
  pushRepodata(channel: string, subdir: string, json: Buffer, zst?: Buffer): Promise<void>;
  /** Replace a stored blob's bytes (same length) so they no longer match its digest. */
  corruptBlob(digest: string): Promise<void>;
  /** The relay cuts the next blob response after this many body bytes. */
  cutNextBlob(afterBytes: number): void;
  close(): Promise<void>;
}

export function v0Repository(channel: string, subdir: string, name: string): string {
  return `${channel}/${subdir}/${name.startsWith('_') ? `zzz${name}` : name}`;
}

export function v0TagOf(version: string, build: string): string {
  return `${version}-${build}`.replaceAll('+', '__p__').replaceAll('!', '__e__').replaceAll('=', '__eq__');
}

async function call(method: string, url: string, token: string, body?: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(url, { method, headers: { authorization: `Bearer ${token}`, ...headers }, ...(body ? { body } : {}) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

export async function startOciRegistry(opts: TokenServerOptions = {}): Promise<OciTestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'cg-oci-'));
  const tokens = await startTokenServer(dir, opts);
  const port = await freePort();
  const root = join(dir, 'storage');
  const config = [
    'version: 0.1',
    'log: { level: error, accesslog: { disabled: true } }',
    `storage: { filesystem: { rootdirectory: "${root}" }, delete: { enabled: true }, cache: { blobdescriptor: inmemory } }`,
    `http: { addr: "127.0.0.1:${port}", secret: "${randomUUID()}" }`,
    ...(opts.auth === 'none' ? [] : [
      'auth:',
      '  token:',
      `    realm: "${tokens.realm}"`,
      `    service: "${tokens.service}"`,
      `    issuer: "${tokens.issuer}"`,
      `    rootcertbundle: "${tokens.certPath}"`,
    ]),
    '',
  ].join('\n');
  const configPath = join(dir, 'config.yml');
  await writeFile(configPath, config);
  const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const host = `127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`http://${host}/v2/`);
      await res.text();
      if (res.status === 401 || res.status === 200) break;
    } catch { /* not listening yet */ }
    if (i > 100 || child.exitCode !== null) {
      child.kill();
      throw new Error(`docker-registry did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  const relay = startRelay(port);
  await new Promise<void>((resolve) => relay.server.listen(0, '127.0.0.1', resolve));
  const relayHost = `127.0.0.1:${(relay.server.address() as AddressInfo).port}`;
  const base = `http://${host}`;

  async function pushBlob(repository: string, data: Buffer): Promise<string> {
    const token = tokens.mint(repository, ['pull', 'push']);
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    const head = await call('HEAD', `${base}/v2/${repository}/blobs/${digest}`, token);
    if (head.status === 200) return digest;
    const start = await call('POST', `${base}/v2/${repository}/blobs/uploads/`, token);
    if (start.status !== 202) throw new Error(`upload start ${repository}: ${start.status} ${start.text}`);
    const location = new URL(start.headers.get('location')!, base);
    location.searchParams.set('digest', digest);
    const put = await call('PUT', location.href, token, data, { 'content-type': 'application/octet-stream' });
    if (put.status !== 201) throw new Error(`upload ${repository}: ${put.status} ${put.text}`);
    return digest;
  }

  async function pushManifest(repository: string, tag: string, layers: Array<{ mediaType: string; data: Buffer }>,
    annotations?: Record<string, string>): Promise<string[]> {
    const config = Buffer.from('{}');
    const configDigest = await pushBlob(repository, config);
    const digests: string[] = [];
    for (const layer of layers) digests.push(await pushBlob(repository, layer.data));
    const manifest = {
      schemaVersion: 2, mediaType: OCI_MEDIA.manifest,
      config: { mediaType: OCI_MEDIA.config, digest: configDigest, size: config.length },
      layers: layers.map((l, i) => ({ mediaType: l.mediaType, digest: digests[i], size: l.data.length })),
      ...(annotations ? { annotations } : {}),
    };
    const token = tokens.mint(repository, ['pull', 'push']);
    const put = await call('PUT', `${base}/v2/${repository}/manifests/${tag}`, token, Buffer.from(JSON.stringify(manifest)),
      { 'content-type': OCI_MEDIA.manifest });
    if (put.status !== 201) throw new Error(`manifest ${repository}:${tag}: ${put.status} ${put.text}`);
    return digests;
  }

  return {
    host, relayHost, root, tokens, pid: child.pid,
    get relayed() {
      return relay.seen;
    },
    get answers() {
      return relay.answers;
    },
    pushBlob, pushManifest,
    async pushPackage(channel, subdir, fileName, data) {
      const ext = fileName.endsWith('.conda') ? '.conda' : '.tar.bz2';
      const parts = fileName.slice(0, -ext.length).split('-');
      const build = parts.pop()!;
      const version = parts.pop()!;
      const name = parts.join('-');
      const repository = v0Repository(channel, subdir, name);
      const tag = v0TagOf(version, build);
      const info = Buffer.from(`info of ${fileName}`);
      const [digest] = await pushManifest(repository, tag, [
        { mediaType: ext === '.conda' ? OCI_MEDIA.condaV2 : OCI_MEDIA.condaV1, data },
        { mediaType: OCI_MEDIA.info, data: info },
      ]);
      return { repository, tag, digest: digest!, sha256: digest!.slice(7), size: data.length };
    },
    async pushRepodata(channel, subdir, json, zst) {
      await pushManifest(`${channel}/${subdir}/repodata.json`, 'latest', [
        { mediaType: OCI_MEDIA.repodata, data: json },
        ...(zst ? [{ mediaType: OCI_MEDIA.repodataZst, data: zst }] : []),
      ]);
    },
    async corruptBlob(digest) {
      const hex = digest.slice(7);
      const file = join(root, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
      const data = await readFile(file);
      const at = Math.floor(data.length / 2);
      data[at] = (data[at] ?? 0) ^ 0xff;
      await writeFile(file, data);
    },
    cutNextBlob(afterBytes) {
      relay.cutAfter = afterBytes;
    },
    async close() {
      await closeServer(relay.server);
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      await tokens.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An HTTP relay to the registry that can cut one blob response after some bytes. */
interface Relay {
  server: Server;
  seen: string[];
  answers: OciTestRegistry['answers'];
  cutAfter: number | undefined;
}

function startRelay(port: number): Relay {
  const state: Relay = { server: undefined as unknown as Server, seen: [], answers: [], cutAfter: undefined };
  state.server = createServer((req: IncomingMessage, res: ServerResponse) => {
    state.seen.push(`${req.method} ${req.url}${req.headers.range ? ` ${req.headers.range}` : ''}`);
    const upstream = httpRequest({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      const error = /error="([^"]*)"/.exec(String(up.headers['www-authenticate'] ?? ''))?.[1];
      state.answers.push({ request: `${req.method} ${req.url}`, status: up.statusCode ?? 502, authorized: Boolean(req.headers.authorization), ...(error ? { error } : {}) });
      res.writeHead(up.statusCode ?? 502, up.headers);
      const cut = /\/blobs\/sha256:/.test(req.url ?? '') && up.statusCode === 200 ? state.cutAfter : undefined;
      if (cut === undefined) {
        up.pipe(res);
        return;
      }
      state.cutAfter = undefined;
      let sent = 0;
      up.on('data', (chunk: Buffer) => {
        if (sent >= cut) return;
        const part = chunk.subarray(0, cut - sent);
        sent += part.length;
        if (sent >= cut) {
          up.destroy();
          // Cut only once the bytes are on their way, so the client really holds a prefix.
          res.write(part, () => setTimeout(() => res.socket?.destroy(), 20));
        } else {
          res.write(part);
        }
      });
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  return state;
}
