/**
 * TLS options from conda's settings: ssl_verify (true, false, a CA bundle file or
 * directory, 'truststore'), REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE / SSL_CERT_FILE when
 * ssl_verify is true, and client_ssl_cert(_key).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext, rootCertificates } from 'node:tls';
import * as nodeTls from 'node:tls';
import type { Settings } from '../core/settings.js';
import { ConfigError } from '../errors/classes.js';

export interface TlsOptions {
  rejectUnauthorized: boolean;
  ca?: string[];
  cert?: Buffer;
  key?: Buffer;
}

const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/ca-bundle.pem',
  '/etc/pki/tls/cacert.pem', '/etc/ssl/cert.pem',
];

function readCaPath(path: string, setting: string, origin: string): string[] {
  let pems: string[];
  try {
    const st = statSync(path);
    if (st.isDirectory()) {
      pems = readdirSync(path)
        .filter((name) => /\.(pem|crt|cer)$|\.\d+$/.test(name))
        .map((name) => readFileSync(join(path, name), 'utf8'));
    } else {
      pems = [readFileSync(path, 'utf8')];
    }
  } catch (err) {
    throw new ConfigError(`Cannot read the CA certificates at '${path}' given by ${setting} (from ${origin}).`, {
      cause: err, details: { setting, source: origin, path },
      hint: `Point ${setting} at an existing CA bundle file or directory.`,
    });
  }
  const certs = pems.filter((text) => text.includes('BEGIN CERTIFICATE'));
  if (!certs.length) {
    throw new ConfigError(`No PEM certificates found at '${path}' given by ${setting} (from ${origin}).`, {
      details: { setting, source: origin, path },
      hint: `Point ${setting} at a PEM CA bundle (-----BEGIN CERTIFICATE-----) or a directory of them.`,
    });
  }
  return certs;
}

type GetCaCertificates = (type: 'system') => string[];

/** The operating system's trust store (ssl_verify: truststore): Node's own on ≥ 22.15, else the distribution bundle. */
export function systemCertificates(): string[] {
  const getCa = (nodeTls as unknown as { getCACertificates?: GetCaCertificates }).getCACertificates;
  if (typeof getCa === 'function') {
    try {
      const certs = getCa('system');
      if (certs.length) return certs;
    } catch { /* fall back to the files */ }
  }
  for (const path of SYSTEM_BUNDLES) {
    try {
      return [readFileSync(path, 'utf8')];
    } catch { /* try the next place */ }
  }
  return [...rootCertificates];
}

function readClientFile(path: string, setting: string, origin: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`Cannot read ${setting} '${path}' (from ${origin}).`, {
      cause: err, details: { setting, source: origin, path }, hint: `Fix ${setting} or remove it.`,
    });
  }
}

export function tlsOptionsFor(settings: Pick<Settings, 'sslVerify' | 'clientSslCert' | 'clientSslCertKey' | 'env' | 'sources'>): TlsOptions {
  const options: TlsOptions = { rejectUnauthorized: settings.sslVerify !== false };
  const origin = settings.sources.sslVerify.origin;
  if (settings.sslVerify === true) {
    for (const name of ['REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'SSL_CERT_FILE']) {
      const path = settings.env[name];
      if (path) {
        options.ca = readCaPath(path, name, `env:${name}`);
        break;
      }
    }
  } else if (settings.sslVerify === 'truststore') {
    options.ca = systemCertificates();
  } else if (typeof settings.sslVerify === 'string') {
    options.ca = readCaPath(settings.sslVerify, 'ssl_verify', origin);
  }
  if (settings.clientSslCert) {
    const certOrigin = settings.sources.clientSslCert.origin;
    options.cert = readClientFile(settings.clientSslCert, 'client_ssl_cert', certOrigin);
    options.key = settings.clientSslCertKey
      ? readClientFile(settings.clientSslCertKey, 'client_ssl_cert_key', settings.sources.clientSslCertKey.origin)
      : options.cert;
    try {
      createSecureContext({ cert: options.cert, key: options.key });
    } catch (err) {
      const keyFrom = settings.clientSslCertKey ? `client_ssl_cert_key (from ${settings.sources.clientSslCertKey.origin})` : 'the same file';
      throw new ConfigError(`The client certificate client_ssl_cert (from ${certOrigin}) and its key in ${keyFrom} cannot be used ` +
        `together: ${(err as Error).message}.`, {
        cause: err, details: { setting: 'client_ssl_cert', source: certOrigin },
        hint: 'client_ssl_cert must be a PEM certificate (or certificate + key in one file) and client_ssl_cert_key its unencrypted PEM key.',
      });
    }
  }
  return options;
}
