import { ident, join, keyword, sql } from './sql';

describe('sql tag', () => {
  it('binds every value as a numbered parameter, across nested fragments', () => {
    const where = join([sql`a = ${1}`, sql`b = ${'x'}`], ' AND ');
    const q = sql`SELECT * FROM t WHERE ${where} LIMIT ${10}`;
    expect(q.text).toBe('SELECT * FROM t WHERE a = $1 AND b = $2 LIMIT $3');
    expect(q.values).toEqual([1, 'x', 10]);
  });

  it('splices identifiers and keywords only from their allowed lists', () => {
    expect(
      sql`SELECT ${ident('amount', ['amount', 'fee'])} FROM t ORDER BY 1 ${keyword('DESC', ['ASC', 'DESC'])}`
        .text,
    ).toBe('SELECT "amount" FROM t ORDER BY 1 DESC');
    expect(() => ident('amount; DROP TABLE t', ['amount'])).toThrow(/not in the allowed list/);
    expect(() => keyword('DESC; --' as 'DESC', ['ASC', 'DESC'])).toThrow(/not in the allowed list/);
  });
});
