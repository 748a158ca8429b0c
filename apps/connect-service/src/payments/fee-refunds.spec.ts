import { mergeFeeRefunds } from './payments-webhook.handlers';

describe('mergeFeeRefunds', () => {
  it('keeps every fee refund seen, whatever order the events came in, once each', () => {
    const a = { id: 'fr_a', amount: 10, created: 100, object: 'fee_refund' };
    const b = { id: 'fr_b', amount: 5, created: 200 };
    expect(mergeFeeRefunds([b], [a, b])).toEqual([
      { id: 'fr_a', amount: 10, created: 100 },
      { id: 'fr_b', amount: 5, created: 200 },
    ]);
    expect(mergeFeeRefunds(undefined, [{ id: 'fr_x' }, 'junk'])).toEqual([]);
  });
});
