/**
 * s3:// adapter on the AWS SDK v3 (loaded on the first s3 URL): GetObject/HeadObject
 * streamed into a Response with Content-Type, Content-Length, Last-Modified and ETag;
 * Range (with If-Range as If-Match / If-Unmodified-Since) → 206; service errors as HTTP
 * statuses; the SDK's HTTP goes through the session's dispatcher.
 */
import type { Readable } from 'node:stream';
import { Headers, Response } from '../../util/undici.js';
import type { GetObjectCommandInput, HeadObjectCommandInput, S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { CondaDependencyError, CondaValueError, ConfigError } from '../../errors/classes.js';
import { maskUrl } from '../../redact/safe-url.js';
import { redactText } from '../../redact/redact-text.js';
import type { GatewayRequest } from '../../core/types.js';
import { jsonResponse, responseFromNode } from '../response.js';
import type { Adapter, AdapterDeps } from '../../core/adapter.js';
import { decodedPath } from '../../core/url-path.js';
import { s3Secrets, s3SettingsFrom, type S3Settings } from './config.js';
import { isMissingCredentials, s3Failure } from './errors.js';
import { createUndiciRequestHandler } from './request-handler.js';

type Sdk = typeof import('@aws-sdk/client-s3');

/** Bucket and key of an s3:// URL, or a CG_INVALID_ARGUMENT error. */
export function s3Target(url: URL): { bucket: string; key: string } {
  let bucket: string;
  try {
    bucket = decodeURIComponent(url.hostname);
  } catch {
    bucket = '';
  }
  if (!bucket) {
    throw new CondaValueError(`'${maskUrl(url)}' has no bucket.`, { url, hint: 'Write s3://bucket/path/to/file.' });
  }
  const key = decodedPath(url).replace(/^\//, '');
  if (!key || key.endsWith('/')) {
    throw new CondaValueError(`'${maskUrl(url)}' names a bucket or a prefix, not an object.`, {
      url, hint: 'Name an object, e.g. s3://bucket/channel/noarch/repodata.json.',
    });
  }
  return { bucket, key };
}

async function loadSdk(): Promise<Sdk> {
  let sdk: Sdk;
  try {
    sdk = await import('@aws-sdk/client-s3');
  } catch (err) {
    // conda: "boto3 is required for S3 channels. Please install with `conda install boto3`"
    throw new CondaDependencyError(
      '@aws-sdk/client-s3 is required for S3 channels. Please install it with `npm install @aws-sdk/client-s3`.', { cause: err });
  }
  try {
    // Without touching process.env: the SDK's Node-version notice is not our users' concern.
    const core = await import('@aws-sdk/core/client');
    core.state.warningEmitted = true;
  } catch { /* an SDK without this notice */ }
  return sdk;
}

/**
 * The SDK's default chain (SSO, web identity, profiles, process, ECS/IMDS), told which
 * profile and files to read from our settings rather than from process.env and $HOME.
 */
async function chainCredentials(s3: S3Settings): Promise<S3ClientConfig['credentials'] | undefined> {
  try {
    const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
    return defaultProvider({
      ...(s3.profile ? { profile: s3.profile } : {}),
      filepath: s3.credentialsFile,
      configFilepath: s3.configFile,
    });
  } catch {
    return undefined; // the client then builds the SDK's own default chain
  }
}

function headersOf(out: {
  ContentType?: string; ContentLength?: number; LastModified?: Date; ETag?: string; ContentRange?: string; AcceptRanges?: string;
}): Headers {
  const headers = new Headers({ 'content-type': out.ContentType || 'text/plain' });
  if (out.ContentLength !== undefined) headers.set('content-length', String(out.ContentLength));
  if (out.LastModified) headers.set('last-modified', out.LastModified.toUTCString());
  if (out.ETag) headers.set('etag', out.ETag);
  if (out.ContentRange) headers.set('content-range', out.ContentRange);
  headers.set('accept-ranges', out.AcceptRanges || 'bytes');
  return headers;
}

/** What one adapter holds: the loaded SDK, its client, and the secrets to mask in messages. */
interface S3AdapterState {
  readonly sdk: Sdk;
  readonly client: S3Client;
  readonly secrets: readonly string[];
}

/** The SDK client: our dispatcher (proxy, TLS, timeouts), our retries and checksums, the settings' credentials. */
async function buildClient(deps: AdapterDeps, sdk: Sdk, s3: S3Settings): Promise<S3Client> {
  deps.log(`s3: region ${s3.region} (${s3.regionSource})${s3.endpoint ? `, endpoint ${maskUrl(s3.endpoint)}` : ''}` +
    `, credentials from ${s3.credentials ? 'AWS_ACCESS_KEY_ID' : s3.profile ? `profile ${s3.profile}` : 'the AWS default chain'}`);
  const credentials = s3.credentials ?? await chainCredentials(s3);
  const config: S3ClientConfig = {
    region: s3.region,
    followRegionRedirects: true,
    // Our retry middleware decides; SDK retries would multiply attempts.
    maxAttempts: 1,
    // download() verifies sha256/md5 itself; skip the SDK's checksum stream wrapper.
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestChecksumCalculation: 'WHEN_REQUIRED',
    requestHandler: createUndiciRequestHandler(deps.dispatchers) as unknown as S3ClientConfig['requestHandler'],
    ...(s3.endpoint ? { endpoint: s3.endpoint, forcePathStyle: s3.forcePathStyle } : {}),
    ...(credentials ? { credentials } : {}),
    ...(s3.profile ? { profile: s3.profile } : {}),
  };
  return new sdk.S3Client(config);
}

/** An S3 refusal as conda's S3Adapter answers it (status + JSON body), or undefined when it is not one. */
function failureResponse(state: S3AdapterState, req: GatewayRequest, err: unknown): Response | undefined {
  const failure = s3Failure(err);
  if (!failure) return undefined;
  if (req.method === 'HEAD' || failure.status === 304) {
    return new Response(null, { status: failure.status, statusText: failure.statusText });
  }
  return jsonResponse(failure.status, {
    error: 'error downloading file from s3', path: maskUrl(req.url),
    exception: redactText(`${failure.name}('${failure.message}')`, state.secrets),
  }, failure.statusText);
}

function credentialsError(state: S3AdapterState, req: GatewayRequest, err: unknown): ConfigError {
  return new ConfigError(`No AWS credentials found for '${maskUrl(req.url)}'.`, {
    code: 'CG_CREDENTIALS_INVALID', url: req.url, cause: err, secrets: state.secrets,
    hint: 'Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with ~/.aws/credentials, or run on a host with an instance role.',
  });
}

async function head(state: S3AdapterState, req: GatewayRequest, input: HeadObjectCommandInput): Promise<Response> {
  const out = await state.client.send(new state.sdk.HeadObjectCommand(input), { abortSignal: req.signal });
  return responseFromNode(null, { status: 200, statusText: 'OK', headers: headersOf(out) });
}

async function get(state: S3AdapterState, req: GatewayRequest, input: GetObjectCommandInput): Promise<Response> {
  const out = await state.client.send(new state.sdk.GetObjectCommand(input), { abortSignal: req.signal });
  const status = out.$metadata.httpStatusCode ?? (out.ContentRange ? 206 : 200);
  return responseFromNode((out.Body as Readable | undefined) ?? null, {
    status, statusText: status === 206 ? 'Partial Content' : 'OK', headers: headersOf(out),
  });
}

/** A 416 with the object's size, so download() can tell "already complete" from "changed". */
async function unsatisfiable(state: S3AdapterState, req: GatewayRequest, input: { Bucket: string; Key: string }): Promise<Response> {
  const headers = new Headers({ 'content-length': '0' });
  try {
    const out = await state.client.send(new state.sdk.HeadObjectCommand(input), { abortSignal: req.signal });
    if (out.ContentLength !== undefined) headers.set('content-range', `bytes */${out.ContentLength}`);
  } catch { /* without the size, download() restarts from zero */ }
  return new Response(null, { status: 416, statusText: 'Range Not Satisfiable', headers });
}

type ObjectInput = { Bucket: string; Key: string; IfNoneMatch?: string; IfModifiedSince?: Date };

/** If-None-Match (preferred) or If-Modified-Since from the request, as the SDK's input fields. */
function conditionalInput(req: GatewayRequest, base: { Bucket: string; Key: string }): ObjectInput {
  const inm = req.headers.get('if-none-match');
  const ims = req.headers.get('if-modified-since');
  if (inm) return { ...base, IfNoneMatch: inm };
  if (ims && Number.isFinite(Date.parse(ims))) return { ...base, IfModifiedSince: new Date(ims) };
  return base;
}

/** S3 has no If-Range: ask for the range only while the object is unchanged (If-Match / If-Unmodified-Since), else all of it. */
async function getRange(state: S3AdapterState, req: GatewayRequest, input: ObjectInput, range: string): Promise<Response> {
  const ifRange = req.headers.get('if-range')?.trim();
  const guard: { IfMatch?: string; IfUnmodifiedSince?: Date } = {};
  if (ifRange?.startsWith('"')) guard.IfMatch = ifRange;
  else if (ifRange && Number.isFinite(Date.parse(ifRange))) guard.IfUnmodifiedSince = new Date(ifRange);
  else if (ifRange) return get(state, req, input);
  try {
    return await get(state, req, { ...input, ...guard, Range: range });
  } catch (err) {
    const failure = s3Failure(err);
    if (failure?.status === 412 && (guard.IfMatch || guard.IfUnmodifiedSince)) return get(state, req, input);
    if (failure?.status === 416) return unsatisfiable(state, req, { Bucket: input.Bucket, Key: input.Key });
    throw err;
  }
}

async function send(state: S3AdapterState, req: GatewayRequest): Promise<Response> {
  req.signal?.throwIfAborted();
  const { bucket, key } = s3Target(req.url);
  const input = conditionalInput(req, { Bucket: bucket, Key: key });
  try {
    if (req.method === 'HEAD') return await head(state, req, input);
    const range = req.headers.get('range') ?? undefined;
    return await (range ? getRange(state, req, input, range) : get(state, req, input));
  } catch (err) {
    const response = failureResponse(state, req, err);
    if (response) return response;
    if (isMissingCredentials(err)) throw credentialsError(state, req, err);
    throw err;
  }
}

export async function createS3Adapter(deps: AdapterDeps): Promise<Adapter> {
  const sdk = await loadSdk();
  const s3: S3Settings = await s3SettingsFrom(deps.settings.env, deps.settings.homeDir);
  const state: S3AdapterState = { sdk, client: await buildClient(deps, sdk, s3), secrets: s3Secrets(s3) };
  return {
    schemes: ['s3:'],
    send: (req) => send(state, req),
    async close() {
      state.client.destroy();
    },
  };
}
