import { REDACT_PATHS } from '../logging/logger.module';
import { isCardNumber } from '../security/card-number.util';

const CENSOR = '[REDACTED]';

/** The field names the logs redact (their REDACT_PATHS' last segment), plus the headers they never write. */
const SECRET_KEYS = new Set(
  [
    ...REDACT_PATHS.map((p) => /([\w-]+)"?\]?$/.exec(p)?.[1] ?? p),
    'cookie',
    'x-api-key',
    'stripe-signature',
    'payload',
    'raw_body',
    'rawBody',
  ].map((k) => k.toLowerCase()),
);

/** Secrets that can hide inside free text: bearer tokens, JWTs, Stripe keys and secrets, our API keys. */
const SECRET_TEXT = [
  /Bearer\s+[\w.~+/-]+=*/gi,
  /\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/g,
  /\b(?:sk|rk|pk)_(?:test|live)_[\w]+/g,
  /\bwhsec_[\w]+/g,
  /\b(?:pi|seti|cs)_[\w]+_secret_[\w]+/g,
  /\bck_(?:test|live)_[\w]+/g,
];
const DIGIT_RUN = /\b\d(?:[ -]?\d){12,18}\b/g;

export function scrubText(text: string): string {
  let out = text;
  for (const re of SECRET_TEXT) out = out.replace(re, CENSOR);
  return out.replace(DIGIT_RUN, (m) => (isCardNumber(m.replace(/[ -]/g, '')) ? CENSOR : m));
}

/**
 * The logs' redaction applied to a whole error report: secret-named fields anywhere in it are replaced, and every
 * string is cleaned of tokens, keys and card-like numbers (an exception message may quote what it failed on).
 */
export function scrub<T>(value: T, depth = 0): T {
  if (depth > 12) return CENSOR as T;
  if (typeof value === 'string') return scrubText(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => scrub(v, depth + 1)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      // Stack frames hold file names, functions and line numbers of our code, nothing a caller sent.
      if (k === 'frames') out[k] = v;
      else out[k] = SECRET_KEYS.has(k.toLowerCase()) ? CENSOR : scrub(v, depth + 1);
    }
    return out as T;
  }
  return value;
}
