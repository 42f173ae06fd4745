/**
 * conda-gateway: conda's connection gateway for Node.js. The root exports what the README
 * documents; the building blocks are under named subpaths (`conda-gateway/session`, `/config`,
 * `/auth`, `/errors`, `/redact`, `/download`, `/packages`, `/repodata`, `/plugins`).
 * The committed API report (api/conda-gateway.api.md) shows every change to this surface.
 */
// Settings
export { loadSettings, loadCondaSettings } from './config/index.js';
export type {
  Settings, SettingSource, SettingValues, SettingKey, SettingsLayer, PathConflict, LoadSettingsOptions, LoadCondaSettingsOptions,
} from './config/index.js';
// Sessions
export { getSession, closeSessions } from './session/create-session.js';
export type { Session, SessionOptions, FetchInit } from './session/create-session.js';
export type { GatewayRequest, RequestContext, Middleware, Next, RetryEvent, HttpMethod, DebugLog } from './core/types.js';
export type { Adapter, AdapterDeps, AdapterFactory, AdapterLoader, Route, RouteProvider } from './core/adapter.js';
// Downloads
export { download, downloadText, tmpDownload, withTmpDownload } from './download/index.js';
export type {
  DownloadOptions, DownloadResult, DownloadProgress, DownloadTextOptions, TmpDownload, TmpDownloadOptions,
} from './download/index.js';
// Packages and repodata
export { fetchPackages } from './packages/index.js';
export type {
  FetchPackagesOptions, FetchSummary, FetchSummaryJson, FetchEvent, FetchStatus, PackageResult, PackageSpec, SpecOrigin,
} from './packages/index.js';
export { fetchRepodata } from './repodata/index.js';
export type {
  FetchRepodataOptions, FetchRepodataResult, CacheResult, Repodata, RepodataRecord, RepodataLimits, RepodataState, FormatFlag,
} from './repodata/index.js';
// Errors
export {
  GatewayError, isGatewayError, hasCode, ERROR_CODES,
  CondaError, ConfigError, CondaValueError, PluginError, CondaDependencyError, UnsupportedSchemeError, ProxyError,
  CondaSSLError, OfflineError, RedirectError, ChecksumMismatchError, DiskFullError, NotWritableError, FilesystemError,
  LockError, BasicClobberError, AbortedError, CacheError, CondaHTTPError,
} from './errors/index.js';
export { UnavailableInvalidChannel } from './repodata/index.js';
export type {
  ErrorCode, ErrorFamily, GatewayErrorJson, GatewayErrorOptions, ErrorClassOptions, ChecksumKind, JsonValue, CondaHTTPErrorArgs,
} from './errors/index.js';
export { SafeUrl } from './redact/safe-url.js';
// Plugins and auth
export { PluginRegistry } from './plugins/index.js';
export type { GatewayPlugin, HeaderSpec } from './plugins/index.js';
export type { AuthHandler, AuthHandlerSpec, AuthContext, Credentials, CredentialSource } from './auth/types.js';
