/**
 * The one table of error codes: each code's family, CLI exit status and default hint.
 * Codes are stable API; never rename one.
 */

export type ErrorFamily = 'config' | 'network' | 'http' | 'integrity' | 'filesystem' | 'cache' | 'aborted' | 'internal';

export interface ErrorCodeSpec {
  readonly family: ErrorFamily;
  /** Exit status of the CLI when this error ends a command. */
  readonly exitCode: number;
  /** What the user can do next, when the error itself does not say better. */
  readonly hint: string;
  /** One line for the docs. */
  readonly doc: string;
}

export const ERROR_CODES = {
  CG_CONFIG_INVALID: {
    family: 'config', exitCode: 2,
    hint: 'Fix the named setting in the named .condarc file or environment variable.',
    doc: 'A setting has a bad value, or a configuration file cannot be parsed.',
  },
  CG_SPEC_INVALID: {
    family: 'config', exitCode: 2,
    hint: 'Check the named file and line; explicit files, conda-lock.yml and pixi.lock are understood.',
    doc: 'A spec or lock file is malformed or of an unknown format.',
  },
  CG_PLUGIN_INVALID: {
    family: 'config', exitCode: 2,
    hint: 'Remove or fix the named plugin.',
    doc: 'A plugin registered a duplicate name or a forbidden header.',
  },
  CG_INVALID_ARGUMENT: {
    family: 'config', exitCode: 2,
    hint: 'Check the value given on the command line or to the library call.',
    doc: 'An argument is malformed: a URL, a checksum that is not hex, a negative size.',
  },
  CG_CREDENTIALS_INVALID: {
    family: 'config', exitCode: 2,
    hint: 'Fix or remove the named credentials file.',
    doc: 'A credentials store or .netrc file cannot be read.',
  },
  CG_DEPENDENCY_MISSING: {
    family: 'config', exitCode: 2,
    hint: 'Install the named optional dependency with npm.',
    doc: 'An optional dependency needed for this URL scheme is not installed.',
  },
  CG_UNSUPPORTED_SCHEME: {
    family: 'network', exitCode: 2,
    hint: 'Use an http://, https://, file://, ftp://, s3:// or oci:// URL.',
    doc: 'No adapter handles the URL scheme.',
  },
  CG_CONNECTION: {
    family: 'network', exitCode: 3,
    hint: 'Check the host name and your network; HTTP errors are often intermittent, so a retry may work.',
    doc: 'The connection failed or was cut, and retries were spent.',
  },
  CG_TIMEOUT: {
    family: 'network', exitCode: 3,
    hint: 'Raise remote_connect_timeout_secs or remote_read_timeout_secs if the server is slow.',
    doc: 'Connecting or reading timed out, and retries were spent.',
  },
  CG_PROXY: {
    family: 'network', exitCode: 3,
    hint: "Check proxy_servers in .condarc, the *_PROXY variables and NO_PROXY; percent-encode special characters in proxy passwords.",
    doc: 'The proxy refused the request, asked for credentials, or cannot be reached.',
  },
  CG_TLS: {
    family: 'network', exitCode: 3,
    hint: "Point ssl_verify (or REQUESTS_CA_BUNDLE) at your CA bundle, use ssl_verify: truststore for the system store, or --insecure as a last resort.",
    doc: 'The TLS handshake failed, most likely certificate verification.',
  },
  CG_OFFLINE: {
    family: 'network', exitCode: 3,
    hint: 'Unset offline (CONDA_OFFLINE, --offline) to reach remote channels.',
    doc: 'A remote URL was requested in offline mode.',
  },
  CG_REDIRECT: {
    family: 'network', exitCode: 3,
    hint: 'The server redirects in a loop, too often, from https to http, or to a scheme other than http(s); contact the channel owner.',
    doc: 'A redirect was refused: too many hops, a loop, a downgrade from https to http, or a target that is not http(s) (file:, ftp:, s3:, data:, …).',
  },
  CG_HTTP_STATUS: {
    family: 'http', exitCode: 4,
    hint: 'Check the URL and your credentials for this channel.',
    doc: 'The server answered with an HTTP error status.',
  },
  CG_BAD_RESPONSE: {
    family: 'http', exitCode: 4,
    hint: 'The server sent a malformed response; try again or contact the channel owner.',
    doc: 'The response cannot be used: a wrong Content-Range, a body longer than announced.',
  },
  CG_CHANNEL_UNAVAILABLE: {
    family: 'http', exitCode: 4,
    hint: 'Check the channel name and URL; a channel must at least have a noarch subdir.',
    doc: 'The channel does not exist or is not a conda channel.',
  },
  CG_CHECKSUM_MISMATCH: {
    family: 'integrity', exitCode: 5,
    hint: 'The file on the server differs from what was expected; the partial download was removed, so a retry starts fresh.',
    doc: 'The downloaded bytes do not match the expected size, md5 or sha256.',
  },
  CG_CONTENT_LENGTH_MISMATCH: {
    family: 'integrity', exitCode: 5,
    hint: 'The transfer was cut short; run the command again to resume it.',
    doc: 'The body was shorter or longer than its Content-Length.',
  },
  CG_MIRRORS_EXHAUSTED: {
    family: 'integrity', exitCode: 5,
    hint: 'Every mirror for this URL failed; see the per-mirror errors.',
    doc: 'All mirrors of a package failed.',
  },
  CG_DISK_FULL: {
    family: 'filesystem', exitCode: 6,
    hint: 'Free space on the target filesystem, then run again: the partial download is kept and resumes.',
    doc: 'Writing failed because the disk is full (ENOSPC).',
  },
  CG_PERMISSION: {
    family: 'filesystem', exitCode: 6,
    hint: 'Choose a directory you can write to, or fix its permissions.',
    doc: 'A path cannot be written (EACCES, EPERM, EROFS) or its directory is missing.',
  },
  CG_FILESYSTEM: {
    family: 'filesystem', exitCode: 6,
    hint: 'Check the named path: its type, the filesystem it is on, and that nothing else holds it.',
    doc: 'Another local filesystem error (EISDIR, EXDEV, EIO …), or the open-file limit was reached (EMFILE, ENFILE).',
  },
  CG_UNSAFE_PATH: {
    family: 'filesystem', exitCode: 6,
    hint: 'A file name from a lock file or server would leave the folder it belongs in, or a symlink or special file sits where we write; nothing was written there.',
    doc: 'A write was refused: its path escapes the package cache, goes through a symlink we did not create, or names a device, fifo or directory.',
  },
  CG_LOCKED: {
    family: 'filesystem', exitCode: 6,
    hint: 'Another process is writing this file; wait for it or remove a stale lock.',
    doc: 'The lock on a target could not be taken in time.',
  },
  CG_PATH_CONFLICT: {
    family: 'filesystem', exitCode: 6,
    hint: 'Remove the existing file, or set path_conflict to clobber.',
    doc: 'The target exists and path_conflict is prevent.',
  },
  CG_NOT_CACHED: {
    family: 'cache', exitCode: 7,
    hint: 'Run once online to fill the cache.',
    doc: 'The cache holds nothing for this request and the network may not be used.',
  },
  CG_PACKAGE_UNSAFE: {
    family: 'integrity', exitCode: 5,
    hint: 'The package archive tries to write outside its folder or holds a device file; do not install it, and tell the channel owner.',
    doc: 'A package archive entry was refused: absolute path, .., a link out of the package, a device or fifo, NUL or \\ in a name.',
  },
  CG_PACKAGE_CORRUPT: {
    family: 'integrity', exitCode: 5,
    hint: 'The package archive is malformed; fetch it again, or tell the channel owner if it persists.',
    doc: 'A package archive cannot be extracted: bad zip/tar/zstd/bzip2 data, a missing inner tarball, duplicate names, or far more data than declared.',
  },
  CG_REPODATA_INVALID: {
    family: 'cache', exitCode: 7,
    hint: 'The channel index is malformed; contact the channel owner.',
    doc: 'Repodata or a shard cannot be parsed.',
  },
  CG_REPODATA_TOO_LARGE: {
    family: 'cache', exitCode: 7,
    hint: 'The index is over a size limit (decoded bytes, compression ratio, shard names or nesting depth); raise the named limit if the channel is trusted.',
    doc: 'Repodata, a shard index or a shard is over a documented limit; nothing of it was cached.',
  },
  CG_INTERNAL: {
    family: 'internal', exitCode: 70,
    hint: 'This is a bug in conda-gateway, not a network problem: please report it with the output of --verbose.',
    doc: 'An unexpected programming error (TypeError, RangeError …) escaped the request path.',
  },
  CG_WORKER_FAILED: {
    family: 'internal', exitCode: 70,
    hint: 'A worker thread (hashing a large download, checking a large channel index, or extracting packages) stopped unexpectedly; run the command again (a download\'s .partial is kept and resumed). If it repeats, report it with --verbose.',
    doc: 'A worker thread of the download, repodata or extraction path crashed or could not start; nothing unverified was kept.',
  },
  CG_ABORTED: {
    family: 'aborted', exitCode: 130,
    hint: 'Run the command again to resume.',
    doc: 'The operation was cancelled by an AbortSignal or SIGINT.',
  },
} as const satisfies Record<string, ErrorCodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}
