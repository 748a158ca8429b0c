import { ParseUUIDPipe } from '@nestjs/common';
import { ErrorCode } from '../errors/error-codes';
import { ServiceException } from '../errors/service-error';

/**
 * The one policy for `:id` path parameters: an id that cannot be one of ours answers exactly like an unknown
 * one (404 NotFound), so a client never learns more from a malformed id than from a missing resource.
 */
export const idParam = new ParseUUIDPipe({
  exceptionFactory: () => new ServiceException(ErrorCode.NotFound, 'Not found'),
});
