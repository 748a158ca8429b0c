import { createRequire } from 'node:module';
import { logTransport } from './log-transport';

describe('logTransport', () => {
  it('pretty-prints in development on a terminal, with pino-pretty', () => {
    const transport = logTransport('development', true);
    expect(transport?.target).toBe('pino-pretty');
    // The target resolves from the service's own dependencies (pino loads it in a worker by this name).
    expect(() => createRequire(__filename).resolve(transport?.target as string)).not.toThrow();
  });

  it.each([
    ['development', false],
    ['production', true],
    ['production', false],
    ['test', true],
    ['test', false],
  ])('writes JSON lines when NODE_ENV=%s and stdout is a TTY: %s', (nodeEnv, tty) => {
    expect(logTransport(nodeEnv, tty)).toBeUndefined();
  });
});
