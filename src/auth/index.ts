/** Credentials and auth handlers: the sources (URL, credential store, anaconda tokens, .netrc) and their contracts. */
export type { AuthHandler, AuthHandlerSpec, AuthContext, Credentials, CredentialSource } from './types.js';
export { defaultCredentialSources, findCredentials } from './credential-sources.js';
export { createNetrcSource, parseNetrc } from './netrc.js';
export type { Netrc, NetrcEntry } from './netrc.js';
export { createCredentialStoreSource, credentialStorePath, readCredentialStore, writeCredentialStore } from './credential-store.js';
export type { CredentialStoreData, StoredAuthentication } from './credential-store.js';
export { createAnacondaTokenSource } from './anaconda-tokens.js';
export { selectAuthHandlerName } from './select-handler.js';
