/**
 * The one table of error codes this service answers with. The exception filter maps every code to its
 * HTTP status from here, and the README lists the same table (keep both in step).
 * CONNECT_001..004 are the spec's codes; the rest extend them.
 */
export const ERROR_CODES = {
  CONNECT_001: {
    name: 'ACCOUNT_INVALID',
    status: 422,
    description: 'The tenant has no usable Stripe account (missing, not able to charge, or disconnected).',
  },
  CONNECT_002: {
    name: 'OAUTH_FAILED',
    status: 400,
    description:
      'The OAuth flow failed: unknown, expired, used or foreign state, declined consent, or a rejected code.',
  },
  CONNECT_003: { name: 'ROUTING_FAILED', status: 422, description: 'Stripe refused to route the payment.' },
  CONNECT_004: {
    name: 'WEBHOOK_INVALID',
    status: 400,
    description: 'A webhook with a missing, malformed, forged or expired signature.',
  },
  CONNECT_005: {
    name: 'PAYMENT_BLOCKED',
    status: 422,
    description:
      'A routing rule blocks the payment (`details.reason`, `details.rule`); nothing was sent to Stripe.',
  },
  CONNECT_010: {
    name: 'VALIDATION_FAILED',
    status: 400,
    description: 'The request failed validation; `details` names the failing fields.',
  },
  CONNECT_011: {
    name: 'MALFORMED_REQUEST',
    status: 400,
    description: 'The body is not valid JSON or is otherwise unreadable.',
  },
  CONNECT_012: { name: 'PAYLOAD_TOO_LARGE', status: 413, description: 'The body is over the size limit.' },
  CONNECT_013: {
    name: 'UNSUPPORTED_MEDIA_TYPE',
    status: 415,
    description: 'The Content-Type is not accepted by this endpoint.',
  },
  CONNECT_020: { name: 'UNAUTHENTICATED', status: 401, description: 'No valid token or API key.' },
  CONNECT_021: {
    name: 'FORBIDDEN',
    status: 403,
    description: 'The caller lacks the role or scope for this action.',
  },
  CONNECT_030: {
    name: 'NOT_FOUND',
    status: 404,
    description: 'The resource does not exist or is not visible to the caller.',
  },
  CONNECT_031: { name: 'ROUTE_NOT_FOUND', status: 404, description: 'No such endpoint.' },
  CONNECT_040: {
    name: 'CONFLICT',
    status: 409,
    description:
      'The request conflicts with the current state (e.g. a Stripe account already connected to another tenant).',
  },
  CONNECT_041: {
    name: 'IDEMPOTENCY_KEY_REUSED',
    status: 422,
    description: 'The Idempotency-Key was used before with a different request.',
  },
  CONNECT_042: {
    name: 'IDEMPOTENCY_IN_PROGRESS',
    status: 409,
    description: 'A request with this Idempotency-Key is still being processed.',
  },
  CONNECT_050: { name: 'RATE_LIMITED', status: 429, description: 'Too many requests; see Retry-After.' },
  CONNECT_060: {
    name: 'STRIPE_UNAVAILABLE',
    status: 503,
    description: 'Stripe cannot be reached or is failing; retry later.',
  },
  CONNECT_061: {
    name: 'STRIPE_REQUEST_FAILED',
    status: 502,
    description: "Stripe rejected the request; `details` carries Stripe's type, code and request id.",
  },
  CONNECT_062: {
    name: 'CARD_DECLINED',
    status: 402,
    description: 'The card was declined; `details.decline_code` says why.',
  },
  CONNECT_070: {
    name: 'SERVICE_UNAVAILABLE',
    status: 503,
    description: 'A backing service (database) is unavailable; retry later.',
  },
  CONNECT_071: {
    name: 'REQUEST_TIMEOUT',
    status: 503,
    description: 'The request took longer than REQUEST_TIMEOUT_MS.',
  },
  CONNECT_180: {
    name: 'URI_TOO_LONG',
    status: 414,
    description: 'A path parameter is longer than any id this service issues.',
  },
  CONNECT_099: {
    name: 'INTERNAL',
    status: 500,
    description: 'An unexpected error; `error_id` identifies it in the logs.',
  },
} as const satisfies Record<string, { name: string; status: number; description: string }>;

/** Errors by name: code refers to `ErrorCode.NotFound`, never to a `CONNECT_0xx` literal. */
export const ErrorCode = {
  AccountInvalid: 'CONNECT_001',
  OAuthFailed: 'CONNECT_002',
  RoutingFailed: 'CONNECT_003',
  WebhookInvalid: 'CONNECT_004',
  PaymentBlocked: 'CONNECT_005',
  ValidationFailed: 'CONNECT_010',
  MalformedRequest: 'CONNECT_011',
  PayloadTooLarge: 'CONNECT_012',
  UnsupportedMediaType: 'CONNECT_013',
  Unauthenticated: 'CONNECT_020',
  Forbidden: 'CONNECT_021',
  NotFound: 'CONNECT_030',
  RouteNotFound: 'CONNECT_031',
  Conflict: 'CONNECT_040',
  IdempotencyKeyReused: 'CONNECT_041',
  IdempotencyInProgress: 'CONNECT_042',
  RateLimited: 'CONNECT_050',
  StripeUnavailable: 'CONNECT_060',
  StripeRequestFailed: 'CONNECT_061',
  CardDeclined: 'CONNECT_062',
  ServiceUnavailable: 'CONNECT_070',
  RequestTimeout: 'CONNECT_071',
  UriTooLong: 'CONNECT_180',
  Internal: 'CONNECT_099',
} as const satisfies Record<string, keyof typeof ERROR_CODES>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}
