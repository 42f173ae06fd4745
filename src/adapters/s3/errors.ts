/**
 * S3 service errors as HTTP statuses (NoSuchKey/NoSuchBucket → 404, AccessDenied and bad
 * keys → 403, …) so download() and CondaHTTPError handle them like any HTTP failure.
 */

export interface S3Failure {
  readonly status: number;
  readonly statusText: string;
  readonly name: string;
  readonly message: string;
}

const NOT_FOUND = new Set(['NoSuchKey', 'NoSuchBucket', 'NotFound', 'NoSuchVersion']);
const FORBIDDEN = new Set([
  'AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AllAccessDisabled', 'Forbidden',
  'ExpiredToken', 'InvalidToken', 'TokenRefreshRequired', 'AccountProblem', 'InvalidObjectState',
]);

const TEXT: Record<number, string> = {
  304: 'Not Modified', 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 412: 'Precondition Failed',
  416: 'Range Not Satisfiable', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

/** The HTTP view of an SDK service error; undefined for transport errors (no HTTP status). */
export function s3Failure(err: unknown): S3Failure | undefined {
  if (!(err instanceof Error)) return undefined;
  const meta = (err as { $metadata?: { httpStatusCode?: unknown } }).$metadata;
  const httpStatus = typeof meta?.httpStatusCode === 'number' ? meta.httpStatusCode : undefined;
  const name = err.name;
  let status: number | undefined;
  if (NOT_FOUND.has(name)) status = 404;
  else if (FORBIDDEN.has(name)) status = 403;
  else if (name === 'InvalidRange') status = 416;
  else if (name === 'PreconditionFailed') status = 412;
  else if (name === 'NotModified') status = 304;
  else status = httpStatus;
  if (status === undefined) return undefined;
  return { status, statusText: TEXT[status] ?? '', name, message: err.message };
}

/** The SDK found no credentials anywhere in its chain. */
export function isMissingCredentials(err: unknown): boolean {
  return err instanceof Error && (err.name === 'CredentialsProviderError' || /Could not load credentials/i.test(err.message));
}
