import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ERROR_CODES, ErrorCode } from './error-codes';

/** A documented answer of one status: the ServiceError body with an example per code. */
export interface ErrorResponseObject {
  description: string;
  content: {
    'application/json': {
      schema: { $ref: string };
      examples?: Record<string, { value: { code: ErrorCode; message: string; http_status: number } }>;
      example?: unknown;
    };
  };
}

const describe = (c: ErrorCode): string => `${c} ${ERROR_CODES[c].name}: ${ERROR_CODES[c].description}`;
const exampleOf = (c: ErrorCode, status: number) => ({
  value: { code: c, message: ERROR_CODES[c].description, http_status: status },
});

/** The response object of `status` answering `codes` (all of that status). */
export function errorResponse(status: number, codes: ErrorCode[]): ErrorResponseObject {
  return {
    description: codes.map(describe).join('\n\n'),
    content: {
      'application/json': {
        schema: { $ref: '#/components/schemas/ServiceErrorBody' },
        examples: Object.fromEntries(codes.map((c) => [c, exampleOf(c, status)])),
      },
    },
  };
}

/** Adds the codes a documented error response does not list yet (description and example). */
export function addErrorCodes(response: ErrorResponseObject, status: number, codes: ErrorCode[]): void {
  const json = response.content?.['application/json'];
  if (!json?.examples) return;
  for (const c of codes) {
    if (json.examples[c]) continue;
    json.examples[c] = exampleOf(c, status);
    response.description = response.description ? `${response.description}\n\n${describe(c)}` : describe(c);
  }
}

/** The codes grouped by their HTTP status. */
export function codesByStatus(codes: ErrorCode[]): Map<number, ErrorCode[]> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ERROR_CODES[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return byStatus;
}

/**
 * Documents the ServiceError bodies an endpoint can answer, one Swagger response per status, each with an
 * example per code, so integrators see exactly what to handle.
 */
export function ApiErrors(...codes: ErrorCode[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...[...codesByStatus(codes).entries()].map(([status, list]) =>
      ApiResponse({ status, ...errorResponse(status, list) }),
    ),
  );
}
