/**
 * Stripe's error body: {"error": {type, code, decline_code, message, param, doc_url}}.
 * https://docs.stripe.com/api/errors
 */
export type ErrorBody = { error: Record<string, unknown> };

export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody | Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(`Stripe emulator error ${status}`);
  }
}

function docUrl(code: string | undefined): string | undefined {
  return code ? `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}` : undefined;
}

export function invalidRequest(
  message: string,
  opts: { param?: string; code?: string; status?: number; extra?: Record<string, unknown> } = {},
): StripeApiError {
  const error: Record<string, unknown> = { type: 'invalid_request_error', message };
  if (opts.code) {
    error.code = opts.code;
    error.doc_url = docUrl(opts.code);
  }
  if (opts.param) error.param = opts.param;
  return new StripeApiError(opts.status ?? 400, { error: { ...error, ...opts.extra } });
}

export function resourceMissing(kind: string, id: string, param?: string): StripeApiError {
  return invalidRequest(`No such ${kind}: '${id}'`, { code: 'resource_missing', param, status: 404 });
}

export function missingParam(param: string): StripeApiError {
  return invalidRequest(`Missing required param: ${param}.`, { code: 'parameter_missing', param });
}

export function unexpectedState(kind: string, message: string): StripeApiError {
  return invalidRequest(message, { code: `${kind}_unexpected_state` });
}

/** OAuth endpoints answer in the OAuth 2 format, not Stripe's. https://docs.stripe.com/connect/oauth-reference */
export function oauthError(error: string, description: string, status = 400): StripeApiError {
  return new StripeApiError(status, { error, error_description: description });
}
