import { ParseUUIDPipe } from '@nestjs/common';
import { ErrorCode } from '../errors/error-codes';
import { ServiceException } from '../errors/service-error';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for the text form of a uuid, the type of every id column: anything else must never reach a query. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/**
 * The one policy for `:id` path parameters: an id that cannot be one of ours answers exactly like an unknown
 * one (404 NotFound), so a client never learns more from a malformed id than from a missing resource. Routes
 * that also take a Stripe id (`sub_…`, `evt_…`) check `isUuid` themselves and answer the same 404.
 */
export const idParam = new ParseUUIDPipe({
  exceptionFactory: () => new ServiceException(ErrorCode.NotFound, 'Not found'),
});
