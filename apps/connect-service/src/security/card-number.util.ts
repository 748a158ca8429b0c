/** 13 to 19 digits, optionally grouped by single spaces or dashes (how people type card numbers). */
const CARD_LIKE = /^\d(?:[ -]?\d){12,18}$/;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** True when the value, as a whole, is a Luhn-valid 13–19 digit number (a primary account number). */
export function isCardNumber(value: unknown): boolean {
  let text: string;
  if (typeof value === 'string') text = value.trim();
  else if (typeof value === 'number' || typeof value === 'bigint') text = String(value);
  else return false;
  // Cheap rejections first: this runs on every field of every request body.
  if (text.length < 13 || text.length > 37 || !CARD_LIKE.test(text)) return false;
  return luhnValid(text.replace(/[ -]/g, ''));
}

/**
 * No request body of this API nests deeper than a handful of levels. Deeper JSON is refused before validation:
 * class-transformer and class-validator recurse per level, and 10k levels overflow their stack (a 500).
 */
export const MAX_BODY_DEPTH = 32;

export interface BodyInspection {
  /** Paths (`payment_data.metadata.note`, `items[2]`) of every field holding a card number. */
  cardFields: string[];
  tooDeep: boolean;
}

/** Walks objects and arrays iteratively (a hostile nesting cannot overflow this walk either). Own keys only. */
export function inspectBody(root: unknown, rootPath = ''): BodyInspection {
  const cardFields: string[] = [];
  const stack: [unknown, string, number][] = [[root, rootPath, 0]];
  while (stack.length) {
    const [value, path, depth] = stack.pop() as [unknown, string, number];
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object') {
      if (isCardNumber(value)) cardFields.push(path || '(body)');
      continue;
    }
    if (Buffer.isBuffer(value)) continue;
    if (depth >= MAX_BODY_DEPTH) return { cardFields: cardFields.reverse(), tooDeep: true };
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) stack.push([value[i], `${path}[${i}]`, depth + 1]);
      continue;
    }
    for (const key of Object.keys(value)) {
      stack.push([(value as Record<string, unknown>)[key], path ? `${path}.${key}` : key, depth + 1]);
    }
  }
  return { cardFields: cardFields.reverse(), tooDeep: false };
}

export function findCardNumbers(root: unknown, rootPath = ''): string[] {
  return inspectBody(root, rootPath).cardFields;
}
