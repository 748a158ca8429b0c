import { findCardNumbers, inspectBody, isCardNumber, luhnValid, MAX_BODY_DEPTH } from './card-number.util';

describe('isCardNumber', () => {
  it.each<[unknown, boolean]>([
    ['4242424242424242', true],
    ['4242 4242 4242 4242', true],
    ['4242-4242-4242-4242', true],
    [' 4000056655665556 ', true],
    ['378282246310005', true], // Amex, 15 digits
    ['6011111111111117', true],
    ['4222222222222', true], // 13 digits
    [4242424242424242, true],
    ['4242424242424241', false], // Luhn fails
    ['424242424242', false], // 12 digits
    ['42424242424242424242', false], // 20 digits
    ['4242  4242 4242 4242', false], // double separator
    ['4242.4242.4242.4242', false],
    ['pi_4242424242424242', false],
    ['1764130000', false], // a timestamp
    [1500, false],
    ['550e8400-e29b-41d4-a716-446655440000', false],
    [null, false],
    [{ n: '4242424242424242' }, false],
  ])('%j → %s', (value, expected) => {
    expect(isCardNumber(value)).toBe(expected);
  });

  it('checks Luhn', () => {
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
  });
});

describe('findCardNumbers', () => {
  it('names every field holding a card number, deep in objects and arrays', () => {
    expect(
      findCardNumbers({
        tenant_id: 't1',
        payment_data: { amount: 1000, metadata: { note: '4242 4242 4242 4242', ok: 'x' } },
        items: ['a', 5555555555554444],
      }),
    ).toEqual(['payment_data.metadata.note', 'items[1]']);
    expect(findCardNumbers('4242424242424242')).toEqual(['(body)']);
    expect(findCardNumbers({ a: 1 })).toEqual([]);
  });

  it('stops at MAX_BODY_DEPTH, whatever the nesting (10k levels)', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 10_000; i++) deep = i % 2 ? { a: deep } : [deep];
    expect(inspectBody(deep).tooDeep).toBe(true);
    let ok: unknown = '4242424242424242';
    for (let i = 0; i < MAX_BODY_DEPTH; i++) ok = { a: ok };
    expect(inspectBody(ok)).toEqual({ cardFields: [`${'a.'.repeat(MAX_BODY_DEPTH - 1)}a`], tooDeep: false });
  });

  it('ignores inherited keys', () => {
    const polluted = Object.create({ inherited: '4242424242424242' }) as Record<string, unknown>;
    polluted.own = 'x';
    expect(findCardNumbers(polluted)).toEqual([]);
  });
});
