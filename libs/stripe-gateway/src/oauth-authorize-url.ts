/**
 * The SDK builds the authorize URL as a plain string on `https://<host>` with no port, so
 * when the API base is not Stripe (the emulator) its origin has to be replaced by the API base's.
 * https://docs.stripe.com/connect/oauth-reference#get-authorize
 */
export function rewriteAuthorizeUrlOrigin(url: string, apiBase?: string): string {
  if (!apiBase) return url;
  const target = new URL(apiBase);
  const rewritten = new URL(url);
  rewritten.protocol = target.protocol;
  rewritten.host = target.host;
  return rewritten.toString();
}
