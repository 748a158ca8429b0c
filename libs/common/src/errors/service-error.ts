import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ERROR_CODES, ErrorCode, httpStatusOf } from './error-codes';

/** The body of every error response (docs/api.md, "Errors"). */
export class ServiceErrorBody {
  @ApiProperty({ example: ErrorCode.ValidationFailed, enum: Object.keys(ERROR_CODES) })
  code!: ErrorCode;

  @ApiProperty({ example: 'Validation failed' })
  message!: string;

  @ApiPropertyOptional({
    example: { fields: [{ field: 'tenant_id', errors: ['tenant_id must be a string'] }] },
    type: 'object',
    additionalProperties: true,
  })
  details?: Record<string, unknown>;

  @ApiProperty({ example: 400 })
  http_status!: number;

  @ApiPropertyOptional({
    example: '0b6c3f0e-8a43-4c55-9d0c-3f4a1e2b7c11',
    description: 'Only on CONNECT_099; also logged.',
  })
  error_id?: string;
}

/**
 * A domain error: services throw this, never HTTP exceptions. The exception filter turns it into a
 * ServiceErrorBody with the status from ERROR_CODES.
 */
export class ServiceException extends Error {
  readonly httpStatus: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ServiceException';
    this.httpStatus = httpStatusOf(code);
  }

  toBody(): ServiceErrorBody {
    const body: ServiceErrorBody = { code: this.code, message: this.message, http_status: this.httpStatus };
    if (this.details !== undefined) body.details = this.details;
    return body;
  }
}

/** The validation error for one field, shaped as the validation pipe shapes its own (`details.fields`). */
export function fieldError(
  field: string,
  message: string,
  extra?: Record<string, unknown>,
): ServiceException {
  return new ServiceException(ErrorCode.ValidationFailed, 'Validation failed', {
    fields: [{ field, errors: [message] }],
    ...extra,
  });
}
