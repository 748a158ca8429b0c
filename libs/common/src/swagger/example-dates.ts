/**
 * Dates for request examples that run on any day (Swagger UI sends them as they are): the current UTC day and
 * year, taken when the API document is built.
 */
const DAY_MS = 86_400_000;
const now = new Date();
const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

export const EXAMPLE_DATES = {
  /** 00:00 UTC today. */
  today: iso(today),
  /** 00:00 UTC tomorrow. */
  tomorrow: iso(today + DAY_MS),
  /** January 1st of this UTC year. */
  yearStart: iso(Date.UTC(now.getUTCFullYear(), 0, 1)),
  /** January 1st of next UTC year. */
  nextYearStart: iso(Date.UTC(now.getUTCFullYear() + 1, 0, 1)),
} as const;
