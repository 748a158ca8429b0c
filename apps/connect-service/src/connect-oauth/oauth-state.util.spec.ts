import { hashOAuthState, isAllowedRedirectUri, isWellFormedState, newOAuthState } from './oauth-state.util';

describe('OAuth state', () => {
  it('carries at least 128 random bits, base64url, and is stored as its SHA-256', () => {
    const { state, hash } = newOAuthState();
    expect(Buffer.from(state, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    expect(state).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).toBe(hashOAuthState(state));
    expect(hash).not.toContain(state);
  });

  it('never repeats', () => {
    const seen = new Set(Array.from({ length: 1000 }, () => newOAuthState().state));
    expect(seen.size).toBe(1000);
  });

  it('recognises only states of the issued shape', () => {
    expect(isWellFormedState(newOAuthState().state)).toBe(true);
    for (const bad of ['', 'short', 'x'.repeat(43).replace(/x$/, '!'), 42, null, ['a'], 'a'.repeat(44)]) {
      expect(isWellFormedState(bad)).toBe(false);
    }
  });

  it('allows only the configured redirect URI or the allow-list (no open redirect)', () => {
    const configured = 'https://svc.example/connect/oauth/callback';
    expect(isAllowedRedirectUri(configured, configured, [])).toBe(true);
    expect(isAllowedRedirectUri('https://other.example/cb', configured, ['https://other.example/cb'])).toBe(
      true,
    );
    expect(isAllowedRedirectUri('https://evil.example/cb', configured, [])).toBe(false);
    expect(isAllowedRedirectUri(`${configured}?x=1`, configured, [])).toBe(false);
  });
});
