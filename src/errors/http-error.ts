/**
 * CondaHTTPError: conda's message shape (`HTTP 404 NOT FOUND for url <…>`, `Elapsed:`,
 * the 401/403/other help texts, reason and message from JSON / problem+json bodies).
 * Connection failures use status 000 and reason CONNECTION FAILED, as conda does.
 */
import { STATUS_CODES } from 'node:http';
import { GatewayError } from './gateway-error.js';
import type { ErrorCode } from './codes.js';
import { SafeUrl } from '../redact/safe-url.js';
import { redactText } from '../redact/redact-text.js';
import type { JsonValue } from './gateway-error.js';
import { maskJson, readCappedText, secretsOfUrl, type ErrorBodySource } from './error-body.js';

const CONFIG_HELP_URL = 'https://conda.io/docs/config.html';
const DEFAULT_CHANNEL_ALIAS_HOST = 'conda.anaconda.org';

/**
 * conda's help text for an HTTP failure, chosen by status, token presence and channel alias.
 * Give it the real URL: a masked one no longer shows its `/t/<token>/` (conda's Channel(url).token).
 */
export function httpHelpText(status: number | undefined, url: string, channelAlias?: string): string {
  const hasToken = /\/t\/[A-Za-z0-9-]+/.test(url);
  let aliasHost = DEFAULT_CHANNEL_ALIAS_HOST;
  try {
    if (channelAlias) aliasHost = new URL(channelAlias).host;
  } catch { /* keep the default */ }
  const underAlias = url.includes(aliasHost);
  const showConfig = 'Use `conda config --show` to view your configuration\'s current state.\n';
  const further = `Further configuration help can be found at ${CONFIG_HELP_URL}.\n`;
  if (status === 403) {
    if (hasToken) {
      return 'The token given for the URL has insufficient permissions to access this resource.\n\n' +
        'You may not have the required permissions to access this channel or package.\n' +
        'Consider requesting access from the channel owner.\n\n' + showConfig + further;
    }
    if (underAlias) {
      return 'The remote server has indicated you do not have permission to access this resource.\n\n' +
        'This may mean:\n' +
        '  (a) You are not authenticated. Check if authentication is required for this channel\n' +
        '      and verify your credentials are correctly configured.\n' +
        '  (b) You do not have access to this private channel or package. Contact the\n' +
        '      channel owner to request access.\n\n' + further;
    }
    return 'You do not have permission to access this resource.\n\n' +
      'This may indicate:\n' +
      '  - The channel requires authentication. Check your credentials.\n' +
      '  - You do not have access to this private channel or package.\n\n' +
      'You will need to modify your conda configuration to proceed.\n' + showConfig + further;
  }
  if (status === 401) {
    if (hasToken) {
      return 'The token given for the URL is invalid.\n\n' +
        'You will need to adjust your conda configuration to proceed.\n\n' + showConfig + further;
    }
    if (underAlias) {
      return 'The remote server has indicated you are using invalid credentials for this channel.\n\n' +
        'You may need to:\n' +
        '  (a) Remove or update the invalid token from your configuration, or\n' +
        '  (b) Provide conda with a valid token directly.\n\n' + further;
    }
    return 'The credentials you have provided for this URL are invalid.\n\n' +
      'You will need to modify your conda configuration to proceed.\n' + showConfig + further;
  }
  return 'An HTTP error occurred when trying to retrieve this URL.\n' +
    'HTTP errors are often intermittent, and a simple retry will get you on your way.\n';
}

/** conda shows elapsed time as `MM:SS.ffffff`. */
export function formatElapsed(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  const totalSeconds = ms / 1000;
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds - minutes * 60;
  return `${String(minutes).padStart(2, '0')}:${seconds.toFixed(6).padStart(9, '0')}`;
}

export interface CondaHTTPErrorArgs {
  url: string | URL | SafeUrl;
  /** Undefined for connection failures (shown as 000). */
  status?: number;
  reason?: string;
  elapsedMs?: number;
  attempts?: number;
  /** Server-provided message (from a JSON body). Replaces the help text, as conda does. */
  serverMessage?: string;
  /** The help text to use instead of the download one (repodata has its own for 5xx and other statuses). */
  help?: string;
  /** The parsed JSON error body (conda's `json`), already masked; `{}` when there was none. */
  json?: { [key: string]: JsonValue };
  cfRay?: string;
  channelAlias?: string;
  cause?: unknown;
  code?: Extract<ErrorCode, 'CG_HTTP_STATUS' | 'CG_CONNECTION' | 'CG_TIMEOUT'>;
  secrets?: readonly string[];
  hint?: string;
}

export class CondaHTTPError extends GatewayError {
  readonly status: number | undefined;
  readonly reason: string;
  /** The server's JSON error body, masked and size-capped (conda's `CondaHTTPError.json`); `{}` when none. */
  readonly json: { readonly [key: string]: JsonValue };

  constructor(args: CondaHTTPErrorArgs) {
    const safe = SafeUrl.from(args.url);
    const shown = safe.toString();
    const status = args.status;
    const reason = (args.reason || (status ? STATUS_CODES[status] ?? '' : '') || 'CONNECTION FAILED').toUpperCase();
    // Chosen from the real URL (its /t/<token>/ decides the 401/403 text), printed masked.
    const help = args.serverMessage ?? args.help ?? httpHelpText(status, safe.withCredentials(), args.channelAlias);
    const retried = args.attempts && args.attempts > 1
      ? ` (failed after ${args.attempts - 1} ${args.attempts === 2 ? 'retry' : 'retries'})` : '';
    const message =
      `HTTP ${status ? String(status).padStart(3, '0') : '000'} ${reason} for url <${shown}>${retried}\n` +
      `Elapsed: ${formatElapsed(args.elapsedMs)}\n` +
      (args.cfRay ? `CF-RAY: ${args.cfRay}\n` : '') +
      `\n${help}`;
    super(message, {
      code: args.code ?? (status ? 'CG_HTTP_STATUS' : 'CG_CONNECTION'),
      url: safe, attempts: args.attempts, elapsedMs: args.elapsedMs, cause: args.cause, secrets: args.secrets,
      hint: args.hint,
      details: { status: status ?? 0, reason, ...(args.json && Object.keys(args.json).length > 0 ? { json: args.json } : {}) },
    });
    this.status = status;
    this.reason = reason;
    this.json = Object.freeze({ ...(args.json ?? {}) });
  }
}

/** Minimal view of a Response, so callers can pass undici's or the global class. */
export interface ResponseLike extends ErrorBodySource {
  readonly status: number;
  readonly statusText: string;
}

/**
 * Build a CondaHTTPError from an error response, reading reason/message from a JSON body
 * (`reason`, `message`) or `detail` from application/problem+json, as conda does. At most
 * MAX_ERROR_BODY bytes of the body are read; a longer body is cancelled and ignored.
 */
export async function httpErrorFromResponse(
  res: ResponseLike,
  args: Omit<CondaHTTPErrorArgs, 'status' | 'reason' | 'serverMessage' | 'cfRay' | 'json'>,
): Promise<CondaHTTPError> {
  let reason = res.statusText || undefined;
  let serverMessage: string | undefined;
  let json: { [key: string]: JsonValue } | undefined;
  const contentType = res.headers.get('content-type') ?? '';
  const secrets = [...(args.secrets ?? []), ...secretsOfUrl(SafeUrl.from(args.url).withCredentials())];
  try {
    const text = await readCappedText(res);
    if (text && /^\s*\{/.test(text)) {
      const body = JSON.parse(text) as Record<string, unknown>;
      json = maskJson(body, secrets) as { [key: string]: JsonValue };
      if (typeof body.reason === 'string' && body.reason) reason = body.reason;
      if (typeof body.message === 'string' && body.message) serverMessage = body.message;
      if (contentType.includes('application/problem+json') && typeof body.detail === 'string') serverMessage = body.detail;
    }
  } catch {
    // Not JSON, or the body could not be read: the status line says enough.
  }
  return new CondaHTTPError({
    ...args,
    status: res.status,
    reason: reason === undefined ? undefined : redactText(reason, secrets),
    serverMessage: serverMessage === undefined ? undefined : redactText(serverMessage, secrets),
    cfRay: res.headers.get('cf-ray') ?? undefined,
    json,
    secrets,
  });
}
