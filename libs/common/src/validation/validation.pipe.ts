import { ValidationError, ValidationPipe } from '@nestjs/common';
import { ServiceException } from '../errors/service-error';
import { ErrorCode } from '../errors/error-codes';

function flatten(errors: ValidationError[], prefix = ''): { field: string; errors: string[] }[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, errors: Object.values(e.constraints) }] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/**
 * The global validation pipe: whitelist DTOs, reject unknown fields, and fail with a ValidationFailed
 * ServiceError naming every failing field (never echoing the value, which may be a secret).
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) =>
      new ServiceException(ErrorCode.ValidationFailed, 'Validation failed', { fields: flatten(errors) }),
  });
}
