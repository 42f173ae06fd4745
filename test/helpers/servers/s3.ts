/**
 * A real S3-compatible server for tests: moto (python3 -m moto's threaded server, with
 * SigV4 checking switched on after seeding) on 127.0.0.1:0, one bucket, an IAM user with
 * its access key, and an HTTP relay in front that counts connections and requests and can
 * cut the next response after some body bytes.
 */
import { spawn } from 'node:child_process';
import { Agent, createServer as createHttpServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';

export interface S3TestServer {
  /** The forwarder's URL: give it to AWS_ENDPOINT_URL. */
  endpoint: string;
  /** moto itself, bypassing the forwarder (for seeding). */
  directEndpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Connections accepted by the relay. */
  readonly connections: number;
  /** Environment for a session: keys, region and endpoint. */
  env(extra?: Record<string, string>): Record<string, string>;
  putObject(key: string, body: Buffer | string, contentType?: string): Promise<void>;
  /** Cut the next response after `afterBytes` body bytes (the connection is dropped). */
  cutNextResponse(afterBytes: number): void;
  close(): Promise<void>;
}

// Seeding takes 4 unauthenticated calls; after them moto checks every signature.
const MOTO_SCRIPT = `
import json, os, sys
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "4"
from moto.server import ThreadedMotoServer
import boto3
srv = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
srv.start()
host, port = srv.get_host_and_port()
ep = "http://127.0.0.1:%d" % port
kw = dict(region_name="us-east-1", endpoint_url=ep, aws_access_key_id="seed", aws_secret_access_key="seed")
iam = boto3.client("iam", **kw)
iam.create_user(UserName="conda")
iam.put_user_policy(UserName="conda", PolicyName="all", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
k = iam.create_access_key(UserName="conda")["AccessKey"]
boto3.client("s3", **kw).create_bucket(Bucket=sys.argv[1])
print(json.dumps({"port": port, "accessKeyId": k["AccessKeyId"], "secretAccessKey": k["SecretAccessKey"]}), flush=True)
sys.stdin.read()
srv.stop()
`;

interface MotoReady {
  port: number;
  accessKeyId: string;
  secretAccessKey: string;
}

async function startMoto(bucket: string): Promise<{ ready: MotoReady; stop: () => Promise<void> }> {
  const child = spawn('python3', ['-c', MOTO_SCRIPT, bucket], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<MotoReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`moto did not start within 20 s:\n${stderr}`)), 20_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`S3 tests need python3 with moto (python3 -m moto.server); spawning python3 failed: ${err.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`S3 tests need python3 with moto and boto3 (python3 -m moto.server); it exited with ${code}:\n${stderr}`));
    });
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line) as MotoReady);
      } catch {
        reject(new Error(`unexpected output from moto: ${line}\n${stderr}`));
      }
    });
  });
  const stop = async (): Promise<void> => {
    child.stdin.end();
    const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(killer);
  };
  return { ready, stop };
}

export interface S3StartOptions {
  /** Serve the relay over https with this certificate (moto itself stays on plain http). */
  tls?: { key: string; cert: string };
}

export async function startS3Server(t: TestContext | undefined, bucket = 'conda-channel', options: S3StartOptions = {}): Promise<S3TestServer> {
  const { ready, stop } = await startMoto(bucket);
  const state = { connections: 0, requests: 0, cutAfter: undefined as number | undefined };
  const sockets = new Set<Socket>();
  const upstreamAgent = new Agent({ keepAlive: false });
  // An HTTP relay, not a TCP one: moto answers "Connection: close" and hangs up after every
  // response, and such a close meeting a body paused by backpressure crashes undici 7
  // (assert(!this.paused), nodejs/undici#5360, fixed in undici 8). The relay speaks
  // keep-alive to the client, like real S3, and passes headers through untouched (SigV4).
  const relay = (req: IncomingMessage, res: ServerResponse): void => {
    state.requests++;
    const cut = state.cutAfter;
    state.cutAfter = undefined;
    const upstream = httpRequest({
      host: '127.0.0.1', port: ready.port, method: req.method, path: req.url, headers: req.headers, agent: upstreamAgent,
    }, (up) => {
      const headers = { ...up.headers };
      delete headers.connection;
      delete headers['keep-alive'];
      res.writeHead(up.statusCode ?? 502, headers);
      let sent = 0;
      up.on('data', (chunk: Buffer) => {
        if (cut === undefined) {
          if (!res.write(chunk)) {
            up.pause();
            res.once('drain', () => up.resume());
          }
          return;
        }
        const room = cut - sent;
        sent += chunk.length;
        if (room > 0) res.write(chunk.subarray(0, room));
        if (sent >= cut) {
          up.destroy();
          setTimeout(() => res.socket?.destroy(), 10);
        }
      });
      up.on('end', () => {
        if (cut === undefined || sent < cut) res.end();
      });
      up.on('error', () => res.destroy());
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  };
  const forwarder = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, relay) : createHttpServer(relay);
  forwarder.keepAliveTimeout = 2000;
  forwarder.on('connection', (s: Socket) => {
    state.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => forwarder.listen(0, '127.0.0.1', resolve));
  const port = (forwarder.address() as AddressInfo).port;
  const directEndpoint = `http://127.0.0.1:${ready.port}`;

  const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
  const seeder = new S3Client({
    region: 'us-east-1', endpoint: directEndpoint, forcePathStyle: true, maxAttempts: 1,
    credentials: { accessKeyId: ready.accessKeyId, secretAccessKey: ready.secretAccessKey },
  });

  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    seeder.destroy();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => forwarder.close(() => resolve()));
    await stop();
  };
  t?.after(close);

  return {
    endpoint: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    directEndpoint,
    bucket,
    accessKeyId: ready.accessKeyId,
    secretAccessKey: ready.secretAccessKey,
    get connections() {
      return state.connections;
    },
    env(extra = {}) {
      return {
        AWS_ACCESS_KEY_ID: ready.accessKeyId, AWS_SECRET_ACCESS_KEY: ready.secretAccessKey,
        AWS_ENDPOINT_URL: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`, AWS_REGION: 'us-east-1', ...extra,
      };
    },
    async putObject(key, body, contentType) {
      await seeder.send(new PutObjectCommand({
        Bucket: bucket, Key: key, Body: typeof body === 'string' ? Buffer.from(body) : body,
        ...(contentType ? { ContentType: contentType } : {}),
      }));
    },
    cutNextResponse(afterBytes) {
      state.cutAfter = afterBytes;
    },
    close,
  };
}
