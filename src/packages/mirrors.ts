/** Mirrors live with the session now (every request applies them); re-exported for the package fetcher. */
export { MirrorSelector, type Candidate } from '../session/mirrors.js';
