// Test support for the browser tests: a private redis-server and the real
// passport-server, each on a free loopback port, and a headless Chromium.
// Everything started here is stopped by `stop()`, also when a test failed.

import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const execFileAsync = promisify(execFile);

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WEB_DIR = path.join(REPO_ROOT, 'web');
const SERVER_BIN =
  process.env.PASSPORT_SERVER_BIN || path.join(REPO_ROOT, 'target', 'debug', 'passport-server');
const CHROMIUM = process.env.PASSPORT_CHROMIUM || '/usr/bin/chromium';

// Debian's Chromium, as it runs in a container without a display or a GPU;
// the rest keep it from calling home during a test.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const START_TIMEOUT_MS = 20_000;
const POLL_MS = 25;
const PORT_ATTEMPTS = 8;

/**
 * Polls `probe` until it returns a truthy value; throws after `timeoutMs`, or at
 * once when the probe throws an error marked `fatal`.
 */
export async function waitFor(what, probe, timeoutMs = START_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (e) {
      if (e && e.fatal) throw e;
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** A port that was free a moment ago: bind port 0, read it, close. */
export async function freePort() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

// Children still running when this process exits for any reason (a crash, an
// uncaught error) are killed, so no redis-server or server outlives a test run.
const liveChildren = new Set();
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/** A child process with its output kept, for the error message when it dies. */
function startProcess(command, args, options) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  liveChildren.add(child);
  const output = [];
  const keep = (chunk) => {
    output.push(chunk.toString());
    if (output.length > 200) output.shift();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', (error) => {
      keep(`${command}: ${error.message}\n`);
      resolve({ code: null, signal: null, error });
    });
  });
  exited.then(() => liveChildren.delete(child));
  let hasExited = false;
  exited.then(() => {
    hasExited = true;
  });
  return {
    child,
    exited,
    get hasExited() {
      return hasExited;
    },
    output: () => output.join(''),
  };
}

async function stopProcess(proc) {
  if (!proc || proc.hasExited) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 5_000);
  await proc.exited;
  clearTimeout(timer);
}

/** An error that ends a wait at once, when the process it waits on has exited. */
function deadProcessError(proc, what) {
  if (!proc.hasExited) return null;
  return Object.assign(new Error(`${what} exited early:\n${proc.output().slice(-4000)}`), {
    fatal: true,
  });
}

function redisPing(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let reply = '';
    socket.setTimeout(1_000);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => {
      reply += data.toString();
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply.startsWith('+PONG'));
      }
    });
    socket.on('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(false));
  });
}

/** A private redis-server: no persistence, loopback only, killed by `stop()`. */
export async function startRedis() {
  let lastError;
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = await freePort();
    const proc = startProcess('redis-server', [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--save', '',
      '--appendonly', 'no',
    ]);
    try {
      await waitFor('redis-server PING', async () => {
        const dead = deadProcessError(proc, 'redis-server');
        if (dead) throw dead;
        return redisPing(port);
      });
      return {
        port,
        url: `redis://127.0.0.1:${port}`,
        /** GET through redis-cli, as any party with database access could. */
        async get(key) {
          const { stdout } = await execFileAsync('redis-cli', ['-p', String(port), '--raw', 'GET', key]);
          const value = stdout.replace(/\n$/, '');
          return value === '' ? null : value;
        },
        async ttl(key) {
          const { stdout } = await execFileAsync('redis-cli', ['-p', String(port), 'TTL', key]);
          return Number.parseInt(stdout, 10);
        },
        stop: () => stopProcess(proc),
      };
    } catch (e) {
      lastError = e;
      await stopProcess(proc);
      // Another process took the port between our probe and redis's bind: try another.
    }
  }
  throw new Error(`could not start redis-server: ${lastError && lastError.message}`);
}

// The server reads ./config when its working directory has one; an empty
// directory keeps the run to the binary's compiled-in defaults and the
// variables below, whatever the checkout's config/ holds at the moment.
let workDir = null;
function emptyWorkDir() {
  if (workDir === null) {
    workDir = mkdtempSync(path.join(os.tmpdir(), 'passport-web-tests-'));
    process.on('exit', () => rmSync(workDir, { recursive: true, force: true }));
  }
  return workDir;
}

/** Settings for the server under test; `extra` adds or overrides PASSPORT__ variables. */
function serverEnv(port, redisUrl, extra) {
  const env = {};
  // Only the settings below: a developer's own PASSPORT_* variables must not leak in.
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('PASSPORT')) env[key] = value;
  }
  return {
    ...env,
    PASSPORT__SERVER__HOST: '127.0.0.1',
    PASSPORT__SERVER__PORT: String(port),
    PASSPORT__SERVER__METRICS_ADDR: '',
    PASSPORT__SERVER__STATIC_DIR: WEB_DIR,
    PASSPORT__STORE__BACKEND: 'redis',
    PASSPORT__STORE__REDIS__URL: redisUrl,
    PASSPORT__SMS__SENDER: 'log',
    PASSPORT__LIMITS__IMAGE_CODES_PER_IP_PER_MINUTE: '0',
    PASSPORT__LIMITS__SMS_PER_IP_PER_HOUR: '0',
    ...extra,
  };
}

/** The real passport-server against `redisUrl`, answering /healthz. */
export async function startServer(redisUrl, extraEnv = {}) {
  let lastError;
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = await freePort();
    const proc = startProcess(SERVER_BIN, [], {
      cwd: emptyWorkDir(),
      env: serverEnv(port, redisUrl, extraEnv),
    });
    const baseUrl = `http://127.0.0.1:${port}`;
    try {
      await waitFor(`${SERVER_BIN} /healthz`, async () => {
        const dead = deadProcessError(proc, 'passport-server');
        if (dead) throw dead;
        const response = await fetch(`${baseUrl}/healthz`).catch(() => null);
        return response !== null && response.status === 200;
      });
      return { port, baseUrl, output: proc.output, stop: () => stopProcess(proc) };
    } catch (e) {
      lastError = e;
      await stopProcess(proc);
      // Only a lost race for the port is worth another try; anything else
      // (a bad setting, a missing binary, a hang) fails the same way again.
      if (!/address (is )?already in use|AddrInUse|os error 98/i.test(proc.output())) break;
    }
  }
  const hint = /ENOENT/.test(String(lastError && lastError.message))
    ? ` (build it first: cargo build -p passport-server, or set PASSPORT_SERVER_BIN)`
    : '';
  throw new Error(`could not start ${SERVER_BIN}${hint}: ${lastError && lastError.message}`);
}

export async function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * Redis, the server and a browser, started together; `stop()` ends whichever
 * of them did start, in reverse order.
 */
export async function startStack(extraEnv = {}) {
  const started = [];
  const stop = async () => {
    while (started.length) {
      const item = started.pop();
      try {
        await item.stop();
      } catch {
        // Keep stopping the rest.
      }
    }
  };
  try {
    const redis = await startRedis();
    started.push(redis);
    const server = await startServer(redis.url, extraEnv);
    started.push(server);
    const browser = await launchBrowser();
    started.push({ stop: () => browser.close() });
    return { redis, server, browser, baseUrl: server.baseUrl, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
