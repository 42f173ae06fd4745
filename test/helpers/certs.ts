/**
 * Certificates generated per test run with the openssl CLI: a CA, a server certificate
 * for 127.0.0.1/localhost, a client certificate, and the odd ones (expired, wrong host,
 * signed by an unknown CA, self-signed). Made once per process, in a temporary directory.
 * The one certificate maker of the test suite.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CertPair {
  /** PEM file paths, for settings that take paths. */
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
}

export interface TestCerts {
  dir: string;
  caPath: string;
  ca: string;
  server: CertPair;
  client: CertPair;
  /** Cert and key in one PEM file (conda's client_ssl_cert without client_ssl_cert_key). */
  clientCombinedPath: string;
  expired: CertPair;
  wrongHost: CertPair;
  unknownCa: CertPair;
  /** Self-signed (no CA vouches for it), for 127.0.0.1 and localhost. */
  selfSigned: CertPair;
  /** A directory holding the CA as a .pem (ssl_verify: <dir>). */
  caDir: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const e = err as { code?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error('The openssl CLI is missing: install the Debian package "openssl" (listed in .ci/apt-packages).');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? String(err)}`);
  }
}

async function newKeyAndCsr(dir: string, name: string, cn: string): Promise<void> {
  await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`,
    '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
}

async function sign(dir: string, name: string, ca: string, ext: string, days: number): Promise<CertPair> {
  await writeFile(join(dir, `${name}.ext`), ext);
  await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial',
    '-out', `${name}.crt`, '-days', String(days), '-extfile', `${name}.ext`], dir);
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  return { certPath, keyPath, cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8') };
}

async function makeSelfSigned(dir: string, name: string): Promise<CertPair> {
  await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`,
    '-out', `${name}.crt`, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], dir);
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  return { certPath, keyPath, cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8') };
}

async function makeCa(dir: string, name: string, cn: string): Promise<void> {
  await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`,
    '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
}

const SERVER_EXT = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n';

async function generate(): Promise<TestCerts> {
  const dir = await mkdtemp(join(tmpdir(), 'cg-certs-'));
  process.once('exit', () => {
    void rm(dir, { recursive: true, force: true });
  });
  await Promise.all([makeCa(dir, 'ca', 'conda-gateway test CA'), makeCa(dir, 'other-ca', 'Unknown CA')]);
  await Promise.all([
    newKeyAndCsr(dir, 'server', '127.0.0.1'), newKeyAndCsr(dir, 'client', 'conda-gateway client'),
    newKeyAndCsr(dir, 'expired', '127.0.0.1'), newKeyAndCsr(dir, 'wrong-host', 'wrong.example'),
    newKeyAndCsr(dir, 'unknown-ca', '127.0.0.1'),
  ]);
  // Sequential: they share the CA serial file.
  const server = await sign(dir, 'server', 'ca', SERVER_EXT, 2);
  const client = await sign(dir, 'client', 'ca', 'extendedKeyUsage=clientAuth\n', 2);
  const expired = await sign(dir, 'expired', 'ca', SERVER_EXT, -1);
  const wrongHost = await sign(dir, 'wrong-host', 'ca', 'subjectAltName=DNS:wrong.example\nextendedKeyUsage=serverAuth\n', 2);
  const unknownCa = await sign(dir, 'unknown-ca', 'other-ca', SERVER_EXT, 2);
  const selfSigned = await makeSelfSigned(dir, 'self-signed');
  const caPath = join(dir, 'ca.crt');
  const ca = await readFile(caPath, 'utf8');
  const clientCombinedPath = join(dir, 'client-combined.pem');
  await writeFile(clientCombinedPath, `${client.cert}${client.key}`);
  const caDir = join(dir, 'ca-dir');
  await (await import('node:fs/promises')).mkdir(caDir);
  await writeFile(join(caDir, 'corp-ca.pem'), ca);
  return { dir, caPath, ca, server, client, clientCombinedPath, expired, wrongHost, unknownCa, selfSigned, caDir };
}

let cached: Promise<TestCerts> | undefined;

/** The run's certificates (generated on first call). */
export function testCerts(): Promise<TestCerts> {
  cached ??= generate();
  return cached;
}
