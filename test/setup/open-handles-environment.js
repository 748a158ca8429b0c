/* eslint-disable */
// The e2e test environment: Node's, plus a check that a suite closes what it opened. A socket, server, child process
// or timer still referenced once the suite's own afterAll hooks ran keeps its jest worker alive ("A worker process
// has failed to exit gracefully"); here the suite fails instead, naming what it left open.
const { TestEnvironment } = require('jest-environment-node');

const GRACE_MS = 3000;

function counts() {
  const out = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] || 0) + 1;
  return out;
}

function grown(before, now) {
  return Object.entries(now)
    .filter(([name, n]) => n > (before[name] || 0))
    .map(([name, n]) => `${name} ×${n - (before[name] || 0)}`);
}

class OpenHandlesEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.testPath = context.testPath;
  }

  async setup() {
    await super.setup();
    this.baseline = counts();
    // Node reports jest's own timers too, so intervals are tracked here: one still running keeps the worker alive.
    const g = this.global;
    const live = (this.intervals = new Set());
    const set = g.setInterval;
    const clear = g.clearInterval;
    g.setInterval = (...args) => {
      const timer = set(...args);
      live.add(timer);
      return timer;
    };
    g.clearInterval = (timer) => {
      live.delete(timer);
      return clear(timer);
    };
  }

  leftOpen() {
    const running = [...this.intervals].filter(
      (t) => !t._destroyed && (typeof t.hasRef !== 'function' || t.hasRef()),
    ).length;
    return [...grown(this.baseline, counts()), ...(running ? [`setInterval ×${running}`] : [])];
  }

  async teardown() {
    // Sockets and pools close asynchronously after their close() resolves: give them a moment.
    let left = this.leftOpen();
    for (const until = Date.now() + GRACE_MS; left.length && Date.now() < until;) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      left = this.leftOpen();
    }
    await super.teardown();
    if (left.length && process.env.OPEN_HANDLES_CHECK !== 'off') {
      throw new Error(
        `${this.testPath} left open handles after its afterAll hooks: ${left.join(', ')}. ` +
          'Close every app, client, server, child process and timer it starts (OPEN_HANDLES_CHECK=off to bypass).',
      );
    }
  }
}

module.exports = OpenHandlesEnvironment;
