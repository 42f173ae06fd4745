/** Certificates for the TLS suite, made with the openssl CLI per run: a CA, a server cert it signs, and a self-signed one. */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestPki {
  caPath: string;
  ca: string;
  /** Signed by the CA, for 127.0.0.1 and localhost. */
  server: { key: string; cert: string };
  /** Self-signed, for 127.0.0.1 and localhost. */
  selfSigned: { key: string; cert: string };
}

function openssl(dir: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    throw new Error(`the TLS suite needs the openssl CLI (Debian package openssl): openssl ${args[0]} failed: ${String(err)}`);
  }
}

export function makePki(dir: string): TestPki {
  const san = 'subjectAltName=IP:127.0.0.1,DNS:localhost';
  writeFileSync(join(dir, 'ext.cnf'), `${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2',
    '-subj', '/CN=conda-gateway test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt',
    '-days', '2', '-extfile', 'ext.cnf']);
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'self.key', '-out', 'self.crt', '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', san]);
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
  return {
    caPath: join(dir, 'ca.crt'),
    ca: read('ca.crt'),
    server: { key: read('server.key'), cert: read('server.crt') },
    selfSigned: { key: read('self.key'), cert: read('self.crt') },
  };
}
