/** Masking: URLs that print without their secrets, and secrets removed from any text. */
export { SafeUrl, maskUrl } from './safe-url.js';
export { redactText } from './redact-text.js';
