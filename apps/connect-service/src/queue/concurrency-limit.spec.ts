import { ConcurrencyLimit } from './concurrency-limit';

describe('ConcurrencyLimit', () => {
  it('admits `size` holders, queues the rest in arrival order, and hands each released slot to the next', async () => {
    const limit = new ConcurrencyLimit(2);
    const a = await limit.acquire();
    const b = await limit.acquire();
    const order: string[] = [];
    const c = limit.acquire().then((r) => (order.push('c'), r));
    const d = limit.acquire().then((r) => (order.push('d'), r));
    await Promise.resolve();
    expect(order).toEqual([]);
    expect(limit.inUse).toBe(2);
    a!();
    a!(); // releasing twice frees one slot only
    const releaseC = await c;
    expect(order).toEqual(['c']);
    expect(limit.inUse).toBe(2);
    b!();
    const releaseD = await d;
    expect(order).toEqual(['c', 'd']);
    releaseC!();
    releaseD!();
    expect(limit.inUse).toBe(0);
  });

  it('close() answers every waiter and later caller with null, so draining loops stop', async () => {
    const limit = new ConcurrencyLimit(1);
    const held = await limit.acquire();
    const waiting = limit.acquire();
    limit.close();
    expect(await waiting).toBeNull();
    expect(await limit.acquire()).toBeNull();
    held!();
    expect(limit.inUse).toBe(0);
  });
});
