import Stripe from 'stripe';
import { rewriteAuthorizeUrlOrigin } from './oauth-authorize-url';

describe('rewriteAuthorizeUrlOrigin', () => {
  const sdkUrl = (host?: string): string =>
    new Stripe('sk_test_unit', host ? { host, port: 12111, protocol: 'http' } : {}).oauth.authorizeUrl({
      client_id: 'ca_123',
      response_type: 'code',
      scope: 'read_write',
      state: 'st_1',
      redirect_uri: 'http://localhost:3000/connect/oauth/callback',
      stripe_user: { email: 'a@b.example' },
      stripe_landing: 'login',
    });

  it('leaves the URL alone when Stripe itself is the API base', () => {
    const url = sdkUrl();
    expect(rewriteAuthorizeUrlOrigin(url, undefined)).toBe(url);
    expect(url.startsWith('https://connect.stripe.com/oauth/authorize?')).toBe(true);
  });

  it('moves the SDK-built URL to the API base, protocol and port included, query intact', () => {
    const url = sdkUrl('127.0.0.1');
    // The SDK follows `host` but forces https and drops the port: that is the bug being worked around.
    expect(url.startsWith('https://127.0.0.1/oauth/authorize?')).toBe(true);
    const rewritten = rewriteAuthorizeUrlOrigin(url, 'http://127.0.0.1:12111');
    expect(rewritten.startsWith('http://127.0.0.1:12111/oauth/authorize?')).toBe(true);
    const query = new URL(rewritten).searchParams;
    expect(query.get('client_id')).toBe('ca_123');
    expect(query.get('state')).toBe('st_1');
    expect(query.get('scope')).toBe('read_write');
    expect(query.get('redirect_uri')).toBe('http://localhost:3000/connect/oauth/callback');
    expect(query.get('stripe_user[email]')).toBe('a@b.example');
    expect(query.get('stripe_landing')).toBe('login');
  });

  it('rewrites connect.stripe.com to any base', () => {
    expect(
      rewriteAuthorizeUrlOrigin(
        'https://connect.stripe.com/oauth/authorize?a=1',
        'https://stripe.internal:8443',
      ),
    ).toBe('https://stripe.internal:8443/oauth/authorize?a=1');
  });
});
