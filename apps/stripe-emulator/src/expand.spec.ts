import { expandBody, expandPaths } from './expand';
import { Store } from './store';

function storeWithPayment(): Store {
  const store = new Store(100);
  store.put('transfer', 'acct_platform', { id: 'tr_1', object: 'transfer', source_transaction: 'ch_1' });
  store.put('charge', 'acct_1', { id: 'py_1', object: 'charge', source_transfer: 'tr_1' });
  store.put('balance_transaction', 'acct_1', { id: 'txn_1', object: 'balance_transaction', source: 'py_1' });
  return store;
}

describe('expand', () => {
  it('reads the SDK form, a plain string and nothing', () => {
    expect(expandPaths({ expand: ['data.source', ''] })).toEqual(['data.source']);
    expect(expandPaths({ expand: { 0: 'source' } })).toEqual(['source']);
    expect(expandPaths({ expand: 'source' })).toEqual(['source']);
    expect(expandPaths({})).toEqual([]);
  });

  it("replaces a list's ids by the caller's objects, on a copy", () => {
    const store = storeWithPayment();
    const list = { object: 'list', data: [store.entry('balance_transaction', 'txn_1')!.obj] };
    const out = expandBody(store, 'acct_1', list, ['data.source']) as {
      data: Array<Record<string, unknown>>;
    };
    expect(out.data[0].source).toEqual({ id: 'py_1', object: 'charge', source_transfer: 'tr_1' });
    expect(list.data[0].source).toBe('py_1');
  });

  it("leaves an id owned by another account as it is, and an unknown path's value too", () => {
    const store = storeWithPayment();
    const txn = store.entry('balance_transaction', 'txn_1')!.obj;
    const out = expandBody(store, 'acct_1', txn, ['source.source_transfer', 'nothing.here']) as {
      source: Record<string, unknown>;
    };
    expect(out.source).toMatchObject({ id: 'py_1', source_transfer: 'tr_1' });
    const platform = expandBody(store, 'acct_platform', { transfer: 'tr_1' }, [
      'transfer.source_transaction',
    ]);
    expect(platform).toEqual({
      transfer: { id: 'tr_1', object: 'transfer', source_transaction: 'ch_1' },
    });
  });
});
