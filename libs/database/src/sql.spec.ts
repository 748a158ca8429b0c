import { ident, join, keyword, sql, trusted } from './sql';

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

  it('splices generated SQL only when it carries no placeholder of its own', () => {
    const q = sql`WITH job AS (${trusted('INSERT INTO q.job (name) SELECT name FROM src')}) SELECT ${1}`;
    expect(q.text).toBe('WITH job AS (INSERT INTO q.job (name) SELECT name FROM src) SELECT $1');
    expect(() => trusted('SELECT $1')).toThrow(/must not carry placeholders/);
  });
});
