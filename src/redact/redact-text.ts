/**
 * Masks secrets in free text: URL userinfo, anaconda `/t/<token>/` segments,
 * signed query parameters, and any extra literal secrets the caller knows of.
 */

// Userinfo runs to the LAST '@' of the authority: a raw '@' inside a password must not end it early.
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#"'<>]*@/gi;
// conda's redact_token_urls needs a '/' after the token; we also mask a token at the end of a URL.
// Any characters up to the next '/' count as the token (not only conda's [A-Za-z0-9-]).
const TOKEN_SEGMENT = /\/t\/(?!<TOKEN>)[^/\s"'<>?#]+(?=\/|$|[\s"'<>?#])/g;
const SIGNED_PARAMS =
  /([?&](?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|sig|token|access_token|api_key|apikey|password|AWSAccessKeyId)=)(?!<REDACTED>)[^&#\s"'<>]*/gi;

/** Text with URL credentials, tokens and signed query values replaced by placeholders. */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text
    .replace(USERINFO, (_m, scheme: string) => `${scheme}<CREDENTIALS>@`)
    .replace(TOKEN_SEGMENT, '/t/<TOKEN>')
    .replace(SIGNED_PARAMS, '$1<REDACTED>');
  for (const secret of secrets) {
    if (secret.length >= 3) out = out.split(secret).join('<REDACTED>');
  }
  return out;
}
