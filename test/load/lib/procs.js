/* eslint-disable */
// Processes of a bench run: the database, Redis, the service replicas, baselines and load generators (each a process
// of its own), tracked so the run stops every one of them whatever happens.
const { fork, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { Client } = require('pg');
const { freePort, startEmbeddedPostgres } = require('../../setup/embedded-postgres');
const { ROOT, OUT, CONNECTIONS } = require('./options');

const children = [];
// Things that are not child processes to stop at the end, even after a failure (a Citus cluster's servers).
const cleanups = [];
const log = (msg) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const loadAvg = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

async function startDatabase() {
  let serverUrl = process.env.TEST_DATABASE_URL;
  let embedded = null;
  if (!serverUrl) {
    embedded = await startEmbeddedPostgres('connect-bench-pg');
    serverUrl = embedded.url;
    log(`TEST_DATABASE_URL not set: embedded PostgreSQL on port ${embedded.port}`);
  }
  const dbName = `connect_bench_${Date.now()}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${dbName}`;
  return {
    url: url.toString(),
    embedded: !!embedded,
    async drop() {
      const c = new Client({ connectionString: serverUrl });
      await c.connect();
      await c
        .query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`)
        .catch((e) => log(`drop failed: ${e.message}`));
      await c.end();
      if (embedded) await embedded.stop();
    },
  };
}

function onPath(binary) {
  return (process.env.PATH || '').split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir, binary), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function redisPing(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('error', () => resolve(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
  });
}

/**
 * TEST_REDIS_URL, else a redis-server of our own on a free port (no persistence, as the fault suite starts one), so
 * a fresh clone prints every row; only without the binary does the service fall back to its in-process cache.
 */
async function startRedis() {
  if (process.env.TEST_REDIS_URL) return { url: process.env.TEST_REDIS_URL, source: 'TEST_REDIS_URL' };
  if (!onPath('redis-server')) {
    return {
      url: null,
      source: 'none',
      reason:
        'TEST_REDIS_URL not set and no redis-server on PATH: the service used its in-process cache and there is no Redis to compare with',
    };
  }
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  children.push(child);
  const deadline = Date.now() + 10_000;
  while (!(await redisPing(port))) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('redis-server did not answer PING in 10 s');
    await sleep(50);
  }
  log(`TEST_REDIS_URL not set: redis-server on port ${port}`);
  return { url: `redis://127.0.0.1:${port}`, source: 'redis-server started by the bench' };
}

/** fork()s a script that answers {ready, url} over IPC. */
function forkReady(script, env, execArgv = []) {
  return new Promise((resolve, reject) => {
    const child = fork(script, [], {
      env: { ...process.env, ...env },
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    const timer = setTimeout(() => reject(new Error(`${script} did not start in 60 s`)), 60_000);
    child.once('message', (m) => {
      clearTimeout(timer);
      if (m && m.ready) resolve({ child, url: m.url });
      else reject(new Error(`${script}: ${JSON.stringify(m)}`));
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

async function startService(env, fixedPort, logName = 'service.log', profile = false) {
  const port = fixedPort || (await freePort());
  const logFile = path.join(OUT, logName);
  const fd = fs.openSync(logFile, 'w');
  const nodeArgs = profile
    ? ['--cpu-prof', `--cpu-prof-dir=${path.join(OUT, 'profile')}`, '--cpu-prof-interval=500']
    : [];
  const child = spawn(
    process.execPath,
    [...nodeArgs, path.join(ROOT, 'dist/apps/connect-service/src/main.js')],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        // The heap limit the Dockerfile and the k8s ConfigMap ship; BENCH_NODE_OPTIONS= (empty) runs without it.
        NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS ?? '--max-old-space-size=192',
        ...env,
        PORT: String(port),
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', fd, fd],
    },
  );
  children.push(child);
  let exited = null;
  child.once('exit', (code, signal) => (exited = code ?? signal));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exited !== null) throw new Error(`the service exited with ${exited}; see ${logFile}`);
    try {
      const res = await fetch(`${url}/health/live`);
      if (res.ok) break;
    } catch {}
    if (Date.now() > deadline)
      throw new Error(`the service did not answer /health/live in 90 s; see ${logFile}`);
    await sleep(250);
  }
  return { child, url, logFile };
}

function stopChild(child, ms = 15_000) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Samples a service process's VmRSS from /proc every 250 ms (scenario 6). */
function rssSampler(pid) {
  const s = { max: 0, last: 0, phaseMax: 0 };
  const read = () => {
    try {
      const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) {
        s.last = Number(m[1]) / 1024;
        s.max = Math.max(s.max, s.last);
        s.phaseMax = Math.max(s.phaseMax, s.last);
      }
    } catch {}
  };
  read();
  s.timer = setInterval(read, 250);
  s.startPhase = () => {
    read();
    s.phaseMax = s.last;
  };
  return s;
}

/**
 * One autocannon run in a load-generator process of its own (never the bench's or a server's event loop). Idle
 * generators are reused, which saves a node start per run; runs at the same moment (scenario 7) get one each.
 */
const idleRunners = [];
function loadRun(job) {
  const child =
    idleRunners.pop() ||
    fork(path.join(__dirname, '..', 'autocannon-runner.js'), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  if (!children.includes(child)) children.push(child);
  return new Promise((resolve, reject) => {
    const done = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (m) => {
      done();
      idleRunners.push(child);
      if (m.ok) resolve(m.result);
      else reject(new Error(m.error));
    };
    const onExit = (code) => {
      done();
      reject(new Error(`autocannon runner exited with ${code}`));
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
    child.send({ connections: CONNECTIONS, ...job });
  });
}

/** RetentionService.purge in a process of its own (test/load/retention-purge.js); its own timing, boot excluded. */
function runPurge(env) {
  return new Promise((resolve, reject) => {
    const logFd = fs.openSync(path.join(OUT, 'service-purge.log'), 'w');
    const child = fork(path.join(__dirname, '..', 'retention-purge.js'), [], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', logFd, logFd, 'ipc'],
    });
    children.push(child);
    let answer = null;
    child.once('message', (m) => (answer = m));
    child.once('exit', (code) => {
      if (answer && answer.ok) resolve({ seconds: Number(answer.seconds.toFixed(1)), ...answer.result });
      else
        reject(
          new Error(
            `retention purge failed (${code}): ${answer ? answer.error : 'see bench-results/service-purge.log'}`,
          ),
        );
    });
  });
}

module.exports = {
  children,
  cleanups,
  log,
  sleep,
  loadAvg,
  freePort,
  startDatabase,
  startRedis,
  forkReady,
  startService,
  stopChild,
  rssSampler,
  loadRun,
  runPurge,
};
