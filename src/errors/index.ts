/** The error model: one base class, conda-named subclasses, one codes table. */
export { ERROR_CODES, isErrorCode } from './codes.js';
export type { ErrorCode, ErrorFamily, ErrorCodeSpec } from './codes.js';
export { GatewayError, isGatewayError, hasCode } from './gateway-error.js';
export type { GatewayErrorOptions, GatewayErrorJson, JsonValue } from './gateway-error.js';
export * from './classes.js';
export { CondaHTTPError, httpErrorFromResponse, httpHelpText, formatElapsed } from './http-error.js';
export type { ErrorBodySource } from './error-body.js';
export type { CondaHTTPErrorArgs, ResponseLike } from './http-error.js';
export { fromSystemError } from './from-system.js';
