import { Type } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import {
  addErrorCodes,
  codesByStatus,
  ERROR_CODES,
  ErrorCode,
  ErrorResponseObject,
  errorResponse,
  ServiceErrorBody,
} from '@app/common';

/** A route served straight from Fastify, documented by the same declaration that registers it. */
export interface DocumentedRoute {
  method: string;
  url: string;
  /** Its OpenAPI operation, as a controller's decorators would describe it. */
  operation: Record<string, unknown>;
  /** DTO classes its operation refers to (`#/components/schemas/<name>`). */
  models?: Type<unknown>[];
}

type Operation = { responses?: Record<string, unknown>; security?: unknown[]; parameters?: { in: string }[] };

const BODY_METHODS = new Set(['post', 'put', 'patch', 'delete']);

/**
 * The answers an operation can give whatever its own decorators say, by status: the input boundary and the JSON
 * parser (400), Fastify's body limit and content-type check (413, 415, on methods with a body), the router's
 * parameter length (414, on paths with parameters), the rate limiter (429, not on probes, metrics and docs), the
 * unexpected (500), and a database outage or the request deadline (503).
 */
export function genericErrors(path: string, method: string, op: Operation): [number, ErrorCode[]][] {
  const unlimited = path.startsWith('/health') || path === '/metrics';
  const codes: ErrorCode[] = [ErrorCode.ValidationFailed, ErrorCode.MalformedRequest];
  if (BODY_METHODS.has(method)) codes.push(ErrorCode.PayloadTooLarge, ErrorCode.UnsupportedMediaType);
  if (path.includes('{')) codes.push(ErrorCode.UriTooLong);
  if (!unlimited) codes.push(ErrorCode.RateLimited);
  if (op.security?.length) codes.push(ErrorCode.Unauthenticated, ErrorCode.Forbidden);
  codes.push(ErrorCode.Internal, ErrorCode.ServiceUnavailable, ErrorCode.RequestTimeout);
  return [...codesByStatus(codes).entries()];
}

/** 429 and 500 keep the single-example form they were first documented with. */
const SINGLE_EXAMPLE: Partial<Record<number, [ErrorCode, string]>> = {
  429: [ErrorCode.RateLimited, 'Rate limited: see the Retry-After and RateLimit-* headers.'],
  500: [ErrorCode.Internal, 'Unexpected error: error_id identifies it in the logs.'],
};

function documentCommonErrors(document: OpenAPIObject): void {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(item) as [string, Operation][]) {
      if (!op || typeof op !== 'object' || !op.responses) continue;
      for (const [status, codes] of genericErrors(path, method, op)) {
        const existing = op.responses[status] as ErrorResponseObject | undefined;
        if (existing) {
          addErrorCodes(existing, status, codes);
          continue;
        }
        const single = SINGLE_EXAMPLE[status];
        op.responses[status] = single
          ? {
              description: `${single[0]} ${ERROR_CODES[single[0]].name}: ${single[1]}`,
              content: {
                'application/json': {
                  schema: { $ref: '#/components/schemas/ServiceErrorBody' },
                  example: {
                    code: single[0],
                    message: ERROR_CODES[single[0]].description,
                    http_status: status,
                  },
                },
              },
            }
          : errorResponse(status, codes);
      }
    }
  }
}

/** A copy of `record` with `key: value` inserted before `before` (appended when `before` is absent). */
function insertBefore<T>(record: Record<string, T>, before: string | undefined, key: string, value: T) {
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(record)) {
    if (k === before) out[key] = value;
    if (k !== key) out[k] = v;
  }
  if (!(key in out)) out[key] = value;
  return out;
}

/**
 * Adds the direct routes' operations where a controller's would sit (before the first path below them), and moves
 * their models before the first schema that the following path refers to, as Swagger's scan would order them.
 */
function documentDirectRoutes(document: OpenAPIObject, routes: DocumentedRoute[]): void {
  for (const route of routes) {
    const path = route.url.replace(/:(\w+)/g, (_param, name: string) => `{${name}}`);
    const next = Object.keys(document.paths).find((p) => p.startsWith(`${path}/`));
    const item = { ...(document.paths[path] ?? {}), [route.method.toLowerCase()]: route.operation };
    document.paths = insertBefore(document.paths, next, path, item);
    const schemas = document.components?.schemas;
    if (!schemas) continue;
    const order = Object.keys(schemas);
    const refs = next ? JSON.stringify(document.paths[next]).match(/#\/components\/schemas\/\w+/g) : null;
    const firstRef = (refs ?? [])
      .map((r) => r.split('/').pop()!)
      .sort((a, b) => order.indexOf(a) - order.indexOf(b))[0];
    let reordered = schemas;
    for (const model of route.models ?? []) {
      reordered = insertBefore(reordered, firstRef, model.name, schemas[model.name]);
    }
    document.components!.schemas = reordered;
  }
}

export function buildOpenApiDocument(
  app: NestFastifyApplication,
  direct: DocumentedRoute[] = [],
): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Connect Service')
    .setDescription(
      'Stripe Connect middleware for multi-tenant platforms. Every error body is a ServiceError ' +
        '`{code, message, details?, http_status}`; codes: ' +
        Object.entries(ERROR_CODES)
          .map(([code, e]) => `${code} (${e.status} ${e.name})`)
          .join(', ') +
        '.',
    )
    .setVersion('0.1.0')
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'JWT with sub, tenant_id, roles, scope, exp',
    })
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'api_key')
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    extraModels: [...direct.flatMap((r) => r.models ?? []), ServiceErrorBody],
  });
  documentDirectRoutes(document, direct);
  documentCommonErrors(document);
  return document;
}
