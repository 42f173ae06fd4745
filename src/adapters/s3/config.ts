/**
 * S3 client settings from the environment the session was given (never process.env):
 * AWS_* keys and session token, region (env, then the profile in the AWS config file,
 * then us-east-1 like boto3), profile, and AWS_ENDPOINT_URL(_S3) for S3-compatible
 * servers, which get path-style addressing.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../../errors/classes.js';
import { maskUrl } from '../../redact/safe-url.js';
import type { Env } from '../../core/types.js';

export const DEFAULT_S3_REGION = 'us-east-1';

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface S3Settings {
  readonly region: string;
  /** Where the region came from, for --verbose. */
  readonly regionSource: string;
  readonly endpoint?: string;
  readonly forcePathStyle: boolean;
  /** From AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; undefined means the SDK's default chain. */
  readonly credentials?: S3Credentials;
  readonly profile?: string;
  /** The shared credentials and config files the SDK's chain reads (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, ~/.aws/…). */
  readonly credentialsFile: string;
  readonly configFile: string;
}


function nonEmpty(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v ? v : undefined;
}

/** `region` of a profile in an AWS config file (`[default]` or `[profile name]`). */
export function regionInConfig(text: string, profile: string): string | undefined {
  let inSection = false;
  const wanted = profile === 'default' ? ['default', 'profile default'] : [`profile ${profile}`];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const section = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (section) {
      inSection = wanted.includes(section[1]!.replace(/\s+/g, ' '));
      continue;
    }
    const kv = /^([A-Za-z0-9_]+)\s*=\s*(.*)$/.exec(line);
    if (inSection && kv?.[1] === 'region' && kv[2]) return kv[2].trim();
  }
  return undefined;
}

export async function s3SettingsFrom(env: Env, homeDir: string): Promise<S3Settings> {
  const profile = nonEmpty(env.AWS_PROFILE) ?? nonEmpty(env.AWS_DEFAULT_PROFILE);
  let region = nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION);
  let regionSource = region ? (nonEmpty(env.AWS_REGION) ? 'AWS_REGION' : 'AWS_DEFAULT_REGION') : '';
  const configFile = nonEmpty(env.AWS_CONFIG_FILE) ?? join(homeDir, '.aws', 'config');
  const credentialsFile = nonEmpty(env.AWS_SHARED_CREDENTIALS_FILE) ?? join(homeDir, '.aws', 'credentials');
  if (!region) {
    const text = await readFile(configFile, 'utf8').catch(() => undefined);
    region = text === undefined ? undefined : regionInConfig(text, profile ?? 'default');
    regionSource = region ? configFile : 'default';
  }
  const endpointText = nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  let endpoint: string | undefined;
  if (endpointText) {
    try {
      const parsed = new URL(endpointText);
      if (!/^https?:$/.test(parsed.protocol)) throw new Error('scheme');
      endpoint = parsed.href.replace(/\/$/, '');
    } catch {
      throw new ConfigError(`Invalid S3 endpoint '${maskUrl(endpointText)}': it must be an http:// or https:// URL.`, {
        hint: 'Fix AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL.',
      });
    }
  }
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  const sessionToken = nonEmpty(env.AWS_SESSION_TOKEN);
  const credentials = accessKeyId && secretAccessKey
    ? { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) }
    : undefined;
  return {
    region: region ?? DEFAULT_S3_REGION,
    regionSource,
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: endpoint !== undefined,
    ...(credentials ? { credentials } : {}),
    ...(profile ? { profile } : {}),
    credentialsFile,
    configFile,
  };
}

/** Values never to print (the secret key and session token). */
export function s3Secrets(settings: S3Settings): string[] {
  const c = settings.credentials;
  return c ? [c.secretAccessKey, ...(c.sessionToken ? [c.sessionToken] : [])] : [];
}
