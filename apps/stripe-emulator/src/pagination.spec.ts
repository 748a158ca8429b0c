import { paginate } from './pagination';
import { StripeApiError } from './errors';

const items = Array.from({ length: 25 }, (_, i) => ({ id: `obj_${25 - i}` })); // newest first: obj_25 .. obj_1

describe('paginate', () => {
  it('defaults to 10 newest and says there are more', () => {
    const page = paginate(items, {}, '/v1/x');
    expect(page.data.map((o) => o.id)).toEqual(items.slice(0, 10).map((o) => o.id));
    expect(page).toMatchObject({ object: 'list', has_more: true, url: '/v1/x' });
  });

  it('walks with starting_after until has_more is false', () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = paginate(items, cursor ? { limit: '7', starting_after: cursor } : { limit: '7' }, '/v1/x');
      seen.push(...page.data.map((o) => o.id));
      if (!page.has_more) break;
      cursor = page.data[page.data.length - 1].id;
    }
    expect(seen).toEqual(items.map((o) => o.id));
  });

  it('ending_before returns the newer objects closest to the cursor', () => {
    const page = paginate(items, { limit: '3', ending_before: 'obj_20' }, '/v1/x');
    expect(page.data.map((o) => o.id)).toEqual(['obj_23', 'obj_22', 'obj_21']);
    expect(page.has_more).toBe(true);
    const first = paginate(items, { limit: '10', ending_before: 'obj_23' }, '/v1/x');
    expect(first.data.map((o) => o.id)).toEqual(['obj_25', 'obj_24']);
    expect(first.has_more).toBe(false);
  });

  it('rejects limits outside 1..100 and unknown cursors', () => {
    expect(() => paginate(items, { limit: '0' }, '/v1/x')).toThrow(StripeApiError);
    expect(() => paginate(items, { limit: '101' }, '/v1/x')).toThrow(StripeApiError);
    try {
      paginate(items, { starting_after: 'nope' }, '/v1/x');
      throw new Error('expected a throw');
    } catch (e) {
      expect((e as StripeApiError).status).toBe(404);
    }
  });
});
