import { describeError } from './describe-error';

describe('describeError', () => {
  it('never answers "undefined", whatever was thrown', () => {
    expect(describeError(undefined)).toBe('failed without saying why (no error was given)');
    expect(describeError('plain')).toBe('plain');
    expect(describeError({ code: 'X' })).toBe('{"code":"X"}');
  });

  it('names each refused address of an AggregateError with an empty message', () => {
    const refused = (address: string) =>
      Object.assign(new Error(`connect ECONNREFUSED ${address}:5432`), { code: 'ECONNREFUSED' });
    const err = new AggregateError([refused('::1'), refused('127.0.0.1')], '');
    expect(describeError(err)).toBe('(connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432)');
  });

  it('keeps a code without a message, details and the cause chain', () => {
    const sys = Object.assign(new Error(''), { code: 'EADDRINUSE', address: '127.0.0.1', port: 12111 });
    expect(describeError(sys)).toBe('EADDRINUSE 127.0.0.1:12111');
    const svc = Object.assign(new Error('Not found', { cause: new Error('row missing') }), {
      details: { id: 1 },
    });
    expect(describeError(svc)).toBe('Not found {"id":1} caused by: row missing');
  });
});
