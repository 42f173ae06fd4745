/** Verified, resumable, atomic downloads. */
export { download, PARTIAL_EXTENSION } from './download.js';
export type { DownloadOptions, DownloadResult, DownloadProgress } from './download.js';
export { downloadText } from './download-text.js';
export { tmpDownload, withTmpDownload } from './tmp-download.js';
export type { TmpDownload, TmpDownloadOptions } from './tmp-download.js';
export type { DownloadTextOptions } from './download-text.js';
export { normalizeChecksum, normalizeSize, normalizeExpected } from './checksums.js';
export type { Expected } from './checksums.js';
export { parseContentRange, rangeValidator } from './content-range.js';
export type { ContentRange } from './content-range.js';
export { lockFile, LOCK_BYTE } from '../core/file-lock.js';
export type { LockOptions, LockedFile } from '../core/file-lock.js';
