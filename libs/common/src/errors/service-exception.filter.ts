import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from './database-unavailable';
import { ErrorCode } from './error-codes';
import { fieldError, ServiceErrorBody, ServiceException } from './service-error';

/** HTTP statuses raised by Nest/Fastify themselves, mapped to our codes. */
const STATUS_TO_CODE: Record<number, ErrorCode> = {
  400: ErrorCode.MalformedRequest,
  401: ErrorCode.Unauthenticated,
  403: ErrorCode.Forbidden,
  404: ErrorCode.NotFound,
  405: ErrorCode.RouteNotFound,
  408: ErrorCode.RequestTimeout,
  409: ErrorCode.Conflict,
  413: ErrorCode.PayloadTooLarge,
  415: ErrorCode.UnsupportedMediaType,
  422: ErrorCode.ValidationFailed,
  429: ErrorCode.RateLimited,
  503: ErrorCode.ServiceUnavailable,
};

/** Turns any thrown value into a ServiceError body. Exported for places outside Nest's pipeline. */
export function toServiceError(err: unknown): { body: ServiceErrorBody; unexpected: boolean } {
  if (err instanceof ServiceException) return { body: err.toBody(), unexpected: false };

  if (err instanceof HttpException) {
    const status = err.getStatus();
    const response = err.getResponse();
    const raw =
      typeof response === 'string' ? response : ((response as { message?: unknown }).message ?? err.message);
    let message = Array.isArray(raw) ? raw.join('; ') : String(raw);
    let code: ErrorCode =
      STATUS_TO_CODE[status] ?? (status >= 500 ? ErrorCode.Internal : ErrorCode.ValidationFailed);
    if (status === 404 && /^Cannot (GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)/.test(message)) {
      code = ErrorCode.RouteNotFound;
      message = `${message.replace(/^Cannot /, 'No route ')}`;
    }
    if (status === 429) message = 'Too many requests';
    if (status === 503) {
      // e.g. a failing readiness probe: say which dependency is down (Terminus puts it in the response).
      const details = typeof response === 'object' ? (response as Record<string, unknown>) : undefined;
      return {
        body: {
          code: ErrorCode.ServiceUnavailable,
          message: 'Service unavailable',
          http_status: 503,
          ...(details ? { details } : {}),
        },
        unexpected: false,
      };
    }
    if (status >= 500) return { body: unexpectedBody(), unexpected: true };
    return { body: { code, message, http_status: status }, unexpected: false };
  }

  // Errors from Fastify's own lifecycle (content-type parsing, body limit) carry a statusCode.
  const fe = err as { statusCode?: unknown; code?: unknown; message?: unknown };
  // The router's own refusals (Fastify's frameworkErrors): a path that is not UTF-8, a parameter over maxParamLength.
  if (fe && typeof fe === 'object' && fe.code === 'FST_ERR_BAD_URL') {
    return { body: fieldError('path', 'path is not well-formed UTF-8').toBody(), unexpected: false };
  }
  if (fe && typeof fe === 'object' && fe.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    const e = new ServiceException(ErrorCode.UriTooLong, 'A path parameter is too long', {
      fields: [{ field: 'path', errors: ['a path parameter is longer than any id of this service'] }],
    });
    return { body: e.toBody(), unexpected: false };
  }
  if (
    fe &&
    typeof fe === 'object' &&
    typeof fe.statusCode === 'number' &&
    fe.statusCode >= 400 &&
    fe.statusCode < 500
  ) {
    const status = fe.statusCode;
    const code = STATUS_TO_CODE[status] ?? ErrorCode.MalformedRequest;
    const message =
      status === 413
        ? 'Request body is too large'
        : status === 415
          ? 'Unsupported Content-Type'
          : fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
            ? 'Body cannot be empty when Content-Type is application/json'
            : 'Malformed request body';
    return { body: { code, message, http_status: status }, unexpected: false };
  }

  if (isDatabaseUnavailable(err)) {
    return {
      body: {
        code: ErrorCode.ServiceUnavailable,
        message: 'A backing service is unavailable; retry later',
        http_status: 503,
      },
      unexpected: false,
    };
  }
  return { body: unexpectedBody(), unexpected: true };
}

function unexpectedBody(): ServiceErrorBody {
  return { code: ErrorCode.Internal, message: 'Internal error', http_status: 500, error_id: randomUUID() };
}

const serverFailures = new WeakMap<object, unknown>();

/** What a request answered with a 5xx had thrown (for error tracking); undefined for any other request. */
export function serverFailureOf(request: object): unknown {
  return serverFailures.get(request);
}

/**
 * Logs a thrown value by how bad it is and answers it as a ServiceError: what the filter below does for Nest's
 * pipeline, callable from a route served directly by Fastify.
 */
export function answerServiceError(
  exception: unknown,
  request: FastifyRequest | undefined,
  reply: FastifyReply,
  logger: Pick<Logger, 'error' | 'warn' | 'log'>,
): void {
  const { body, unexpected } = toServiceError(exception);
  const where = {
    method: request?.method,
    route: request?.routeOptions?.url ?? request?.url?.split('?')[0],
  };
  if (request && body.http_status >= 500) serverFailures.set(request, exception);
  if (unexpected) {
    logger.error({ ...where, error_id: body.error_id, err: exception }, 'Unexpected error');
  } else if (body.http_status >= 500) {
    logger.warn({ ...where, code: body.code, err: exception }, body.message);
  } else {
    // Never log the request body here: it may hold secrets. The code and route are enough to debug.
    logger.log({ ...where, code: body.code, status: body.http_status }, body.message);
  }
  if (reply.sent) return;
  void reply.status(body.http_status).header('content-type', 'application/json; charset=utf-8').send(body);
}

@Catch()
export class ServiceExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    answerServiceError(
      exception,
      http.getRequest<FastifyRequest>(),
      http.getResponse<FastifyReply>(),
      this.logger,
    );
  }
}
