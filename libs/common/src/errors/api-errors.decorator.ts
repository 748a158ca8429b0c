import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ERROR_CODES, ErrorCode } from './error-codes';

/**
 * Documents the ServiceError bodies an endpoint can answer, one Swagger response per status, each with an
 * example per code, so integrators see exactly what to handle.
 */
export function ApiErrors(...codes: ErrorCode[]): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ERROR_CODES[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return applyDecorators(
    ...[...byStatus.entries()].map(([status, list]) =>
      ApiResponse({
        status,
        description: list
          .map((c) => `${c} ${ERROR_CODES[c].name}: ${ERROR_CODES[c].description}`)
          .join('\n\n'),
        content: {
          'application/json': {
            schema: { $ref: '#/components/schemas/ServiceErrorBody' },
            examples: Object.fromEntries(
              list.map((c) => [
                c,
                { value: { code: c, message: ERROR_CODES[c].description, http_status: status } },
              ]),
            ),
          },
        },
      }),
    ),
  );
}
