import pino from 'pino';
import { AppLogger } from './app-logger';

function capture(): { logger: AppLogger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const root = pino(
    { level: 'debug', base: undefined, timestamp: false },
    { write: (s: string) => out.push(s) },
  );
  return {
    logger: new AppLogger(root),
    lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('AppLogger (Nest LoggerService over pino)', () => {
  it('writes the message with the context Nest passes last', () => {
    const { logger, lines } = capture();
    logger.log('booted', 'Bootstrap');
    expect(lines()).toEqual([{ level: 30, context: 'Bootstrap', msg: 'booted' }]);
  });

  it("logs Nest's route mappings at debug level, so a start is not a page of routes", () => {
    const { logger, lines } = capture();
    logger.log('Mapped {/connect/payments, POST} route', 'RouterExplorer');
    logger.log('PaymentsController {/connect}:', 'RoutesResolver');
    expect(lines().map((l) => l.level)).toEqual([20, 20]);
  });

  it('merges an object first argument into the line and keeps the message', () => {
    const { logger, lines } = capture();
    logger.warn({ inboxId: 'i1', reason: 'x' }, 'failed', 'Webhooks');
    expect(lines()).toEqual([{ level: 40, inboxId: 'i1', reason: 'x', context: 'Webhooks', msg: 'failed' }]);
  });

  it("puts an Error under err, and turns Nest's (message, stack, context) into one error", () => {
    const { logger, lines } = capture();
    logger.error(new Error('boom'), 'Ctx');
    logger.error('Unhandled', 'Error: x\n    at y (z.js:1:1)', 'ExceptionsHandler');
    const [first, second] = lines();
    expect((first.err as { message: string }).message).toBe('boom');
    expect(first.context).toBe('Ctx');
    expect(second.context).toBe('ExceptionsHandler');
    expect((second.err as { stack: string }).stack).toContain('at y (z.js:1:1)');
  });

  it('skips levels below the configured one', () => {
    const { logger, lines } = capture();
    logger.verbose('trace line', 'Ctx');
    logger.debug('debug line', 'Ctx');
    expect(lines().map((l) => l.msg)).toEqual(['debug line']);
  });
});
