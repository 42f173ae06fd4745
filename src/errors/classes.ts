/**
 * Error classes named as conda names them, so a conda user recognises them on stderr.
 * They are thin subclasses of GatewayError; the family lives in the codes table.
 */
import { GatewayError, type GatewayErrorOptions } from './gateway-error.js';
import type { ErrorCode } from './codes.js';

/** The options of a conda-named error class: GatewayError's, with the code limited to the class's codes. */
export type ErrorClassOptions<C extends ErrorCode = ErrorCode> = Omit<GatewayErrorOptions, 'code'> & { code?: C };

/** conda's generic CondaError: used where conda raises plain CondaError. */
export class CondaError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions) {
    super(message, options);
  }
}

/**
 * A body that ended before its Content-Length or Content-Range said it would: the bytes in hand
 * are a valid prefix, so download() resumes it (within remote_max_retries). The class is the
 * retry signal; it shows as conda's CondaError.
 */
export class IncompleteBodyError extends CondaError {
  constructor(message: string, options: Omit<GatewayErrorOptions, 'code'>) {
    super(message, { ...options, code: 'CG_CONTENT_LENGTH_MISMATCH' });
  }

  override get name(): string {
    return 'CondaError';
  }
}

export class ConfigError extends GatewayError {
  constructor(message: string, options: ErrorClassOptions<'CG_CONFIG_INVALID' | 'CG_SPEC_INVALID' | 'CG_CREDENTIALS_INVALID'> = {}) {
    super(message, { ...options, code: options.code ?? 'CG_CONFIG_INVALID' });
  }
}

/** conda's CondaValueError: a malformed argument (non-hex checksum, negative size, bad URL). */
export class CondaValueError extends GatewayError {
  constructor(message: string, options: ErrorClassOptions<'CG_INVALID_ARGUMENT'> = {}) {
    super(message, { ...options, code: 'CG_INVALID_ARGUMENT' });
  }
}

export class PluginError extends GatewayError {
  constructor(message: string, options: ErrorClassOptions<'CG_PLUGIN_INVALID'> = {}) {
    super(message, { ...options, code: 'CG_PLUGIN_INVALID' });
  }
}

export class CondaDependencyError extends GatewayError {
  constructor(message: string, options: ErrorClassOptions<'CG_DEPENDENCY_MISSING'> = {}) {
    super(message, { ...options, code: 'CG_DEPENDENCY_MISSING' });
  }
}

export class UnsupportedSchemeError extends GatewayError {
  constructor(message: string, options: ErrorClassOptions<'CG_UNSUPPORTED_SCHEME'> = {}) {
    super(message, { ...options, code: 'CG_UNSUPPORTED_SCHEME' });
  }
}

export const PROXY_ERROR_MESSAGE =
  'Conda cannot proceed due to an error in your proxy configuration.\n' +
  "Check for typos and other configuration errors in any '.netrc' file in your home directory,\n" +
  "any environment variables ending in '_PROXY', and any other system-wide proxy\n" +
  'configuration settings.\n';

export class ProxyError extends GatewayError {
  constructor(message: string = PROXY_ERROR_MESSAGE, options: ErrorClassOptions<'CG_PROXY'> = {}) {
    super(message, { ...options, code: 'CG_PROXY' });
  }
}

export class CondaSSLError extends GatewayError {
  constructor(message: string, options: ErrorClassOptions<'CG_TLS'> = {}) {
    super(message, { ...options, code: 'CG_TLS' });
  }
}

export class OfflineError extends GatewayError {
  constructor(url: string, options: ErrorClassOptions<'CG_OFFLINE'> = {}) {
    // conda's EnforceUnusedAdapter wording; the URL is masked by the base class.
    super(`EnforceUnusedAdapter called with url ${url}.\nThis command is using a remote connection in offline mode.`,
      { ...options, url, code: 'CG_OFFLINE' });
  }
}

export class RedirectError extends GatewayError {
  constructor(message: string, options: ErrorClassOptions<'CG_REDIRECT'> = {}) {
    super(message, { ...options, code: 'CG_REDIRECT' });
  }
}

export type ChecksumKind = 'size' | 'md5' | 'sha256';

/** conda's ChecksumMismatchError, with its wording. */
export class ChecksumMismatchError extends GatewayError {
  readonly check: ChecksumKind;
  readonly expected: string;
  readonly actual: string;

  constructor(args: {
    url: string | URL; target: string; check: ChecksumKind; expected: string | number; actual: string | number;
    partialDownload?: boolean; attempts?: number; cause?: unknown; secrets?: readonly string[];
  }) {
    const expected = String(args.expected);
    const actual = String(args.actual);
    super(
      'Conda detected a mismatch between the expected content and downloaded content\n' +
        `for url '${String(args.url)}'.\n` +
        `  download saved to: ${args.target}\n` +
        `  expected ${args.check}: ${expected}\n` +
        `  actual ${args.check}: ${actual}\n`,
      {
        code: 'CG_CHECKSUM_MISMATCH', url: args.url, attempts: args.attempts, cause: args.cause, secrets: args.secrets,
        details: { check: args.check, expected, actual, target: args.target, partialDownload: args.partialDownload ?? false },
      },
    );
    this.check = args.check;
    this.expected = expected;
    this.actual = actual;
  }
}

export class DiskFullError extends GatewayError {
  constructor(message: string, options: ErrorClassOptions<'CG_DISK_FULL'> = {}) {
    super(message, { ...options, code: 'CG_DISK_FULL' });
  }
}

export class NotWritableError extends GatewayError {
  constructor(path: string, options: ErrorClassOptions<'CG_PERMISSION'> = {}) {
    super(`The current user does not have write permissions to a required path.\n  path: ${path}\n`,
      { ...options, code: 'CG_PERMISSION', details: { path, ...options.details } });
  }
}

/** Another local filesystem failure (EISDIR, EXDEV, EMFILE …): the named path, not the network. */
export class FilesystemError extends GatewayError {
  constructor(message: string, options: ErrorClassOptions<'CG_FILESYSTEM'> = {}) {
    super(message, { ...options, code: 'CG_FILESYSTEM' });
  }
}

/** A write refused for safety: a path escaping its folder, a planted symlink, a special file as target. */
export class UnsafePathError extends GatewayError {
  constructor(message: string, path: string, options: ErrorClassOptions<'CG_UNSAFE_PATH'> = {}) {
    super(message, { ...options, code: 'CG_UNSAFE_PATH', details: { path, ...options.details } });
  }
}

export class LockError extends GatewayError {
  constructor(message: string, options: ErrorClassOptions<'CG_LOCKED'> = {}) {
    super(message, { ...options, code: 'CG_LOCKED' });
  }
}

/** conda's BasicClobberError (with source and target the right way round). */
export class BasicClobberError extends GatewayError {
  constructor(target: string, url: string | URL, options: ErrorClassOptions<'CG_PATH_CONFLICT'> = {}) {
    super(
      'Conda was asked to clobber an existing path.\n' +
        `  source path: ${String(url)}\n  target path: ${target}\n` +
        'Conda no longer clobbers existing paths without the use of the --clobber option\n.',
      { ...options, url, code: 'CG_PATH_CONFLICT', details: { target } },
    );
  }
}

export class AbortedError extends GatewayError {
  constructor(message = 'The operation was aborted.', options: ErrorClassOptions<'CG_ABORTED'> = {}) {
    super(message, { ...options, code: 'CG_ABORTED' });
  }
}

/** Cache-level failures (repodata, package cache). */
export class CacheError extends GatewayError {
  constructor(message: string, options: ErrorClassOptions<'CG_NOT_CACHED' | 'CG_REPODATA_INVALID' | 'CG_REPODATA_TOO_LARGE'> & { code: 'CG_NOT_CACHED' | 'CG_REPODATA_INVALID' | 'CG_REPODATA_TOO_LARGE' }) {
    super(message, options as GatewayErrorOptions);
  }
}

/** A package archive that cannot or must not be extracted; names the package and the entry. */
export class PackageArchiveError extends GatewayError {
  constructor(message: string, options: ErrorClassOptions<'CG_PACKAGE_UNSAFE' | 'CG_PACKAGE_CORRUPT'> & {
    code: 'CG_PACKAGE_UNSAFE' | 'CG_PACKAGE_CORRUPT'; package: string; entry?: string;
  }) {
    const { package: pkg, entry, ...rest } = options;
    super(message, { ...rest, details: { package: pkg, ...(entry !== undefined ? { entry } : {}), ...rest.details } } as GatewayErrorOptions);
  }
}
