/**
 * `describe` for suites whose point is Redis itself. Without TEST_REDIS_URL they are skipped, and the reason is
 * both in the suite's name (jest lists it as skipped) and printed once, with how to run them.
 */
export function describeWithRedis(name: string, fn: (redisUrl: string) => void): void {
  const redisUrl = process.env.TEST_REDIS_URL;
  if (redisUrl) {
    describe(name, () => fn(redisUrl));
    return;
  }
  const reason =
    'TEST_REDIS_URL is not set; start Redis (redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" ' +
    '--appendonly no) and run with TEST_REDIS_URL=redis://127.0.0.1:6379';
  process.stdout.write(`[skipped] ${name}: ${reason}\n`);
  describe.skip(`${name} (skipped: ${reason})`, () => fn(''));
}
