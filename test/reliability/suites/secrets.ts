/** Secret-bearing inputs and a scanner shared by the secret-leak suites. */
import { inspect } from 'node:util';

/** Every secret used below contains this marker (any case), so one scan finds them all. */
export const MARKER = /s3cr3t|pr0xy-?pass/i;

/** URLs in every shape a secret travels in: userinfo, anaconda token, signed query, proxy, token-as-user, S3 keys. */
export const SECRET_URLS: readonly string[] = [
  'https://user:s3cr3t@repo.example.com/conda-forge/noarch/repodata.json',
  'https://repo.example.com/t/tk-s3cr3t/conda-forge/linux-64/pkg-1.0-0.conda',
  'https://bucket.s3.amazonaws.com/pkg.conda?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAS3CR3T%2F20260101&X-Amz-Signature=deadbeefs3cr3t',
  'https://bucket.s3.amazonaws.com/pkg.conda?x-amz-security-token=S3CR3T-session&X-Amz-Signature=00s3cr3t',
  'http://proxyuser:pr0xy-pass@127.0.0.1:3128/',
  'https://tk-s3cr3t@repo.example.com/channel/noarch/x.conda',
  'ftp://anon:s3cr3t@127.0.0.1:2121/pub/x.conda',
  's3://AKIAS3CR3T:s3cr3t-key@bucket/linux-64/x.conda',
  'https://user:pa@ss-s3cr3t@repo.example.com/x.conda',
  'https://repo.example.com/t/tk_s3cr3t.v2/chan/noarch/x.conda',
  'HTTPS://USER:S3CR3T@REPO.EXAMPLE.COM/X',
  'https://user:s3cr3t@repo.example.com/t/tk-s3cr3t/c/noarch/x.conda?X-Amz-Signature=s3cr3t&token=s3cr3t',
  'oci://robot:s3cr3t@ghcr.io/channel-mirrors/conda-forge/linux-64/pkg-1.0-0.conda',
];

/** Where a secret was found, or undefined. */
export function findLeak(text: string): string | undefined {
  const m = MARKER.exec(text);
  if (!m) return undefined;
  return text.slice(Math.max(0, m.index - 60), m.index + 40);
}

/** Every printed form of an error a program might emit. */
export function printedForms(err: unknown): Record<string, string> {
  const e = err as Error & { toJSON?: () => unknown; hint?: unknown; cause?: unknown };
  return {
    string: String(err),
    stack: e.stack ?? '',
    inspect: inspect(err, { depth: 8 }),
    inspectNoCustom: inspect(err, { depth: 8, customInspect: false, showHidden: false }),
    json: JSON.stringify(err) ?? '',
    hint: String(e.hint ?? ''),
    cause: e.cause instanceof Error ? `${e.cause.message}\n${e.cause.stack ?? ''}` : '',
  };
}
