import { fieldError, ServiceException } from '../errors/service-error';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why a string cannot enter the service, or null: PostgreSQL cannot store NUL in text or jsonb, and a lone UTF-16
 * surrogate is not Unicode (it fails URL encoding, JSON output to other systems, and jsonb).
 */
export function unstorableText(value: string): string | null {
  if (value.includes('\u0000')) return 'must not contain the NUL character';
  if (LONE_SURROGATE.test(value)) return 'must be well-formed Unicode (no lone surrogate)';
  return null;
}

/**
 * The first string (value or key) in `value` that cannot enter the service, as the validation error naming its
 * field (`items[0].price`, `metadata.note`); null when all are fine. Walks without recursion, so a deeply nested
 * body cannot exhaust the stack.
 */
export function findUnstorableText(value: unknown, root = ''): ServiceException | null {
  const stack: [string, unknown][] = [[root, value]];
  while (stack.length) {
    const [field, v] = stack.pop()!;
    if (typeof v === 'string') {
      const why = unstorableText(v);
      if (why) return fieldError(field || 'body', `${field || 'body'} ${why}`);
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push([`${field}[${i}]`, item]));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
        const name = field ? `${field}.${k}` : k;
        const why = unstorableText(k);
        if (why) return fieldError(field || 'body', `a key of ${field || 'the body'} ${why}`);
        stack.push([name, item]);
      }
    }
  }
  return null;
}
