import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { FacepipeError } from '@facepipe/core';
import { processAlive } from './deployment-file.js';

/** Asks the OS for a free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface LocalRedis {
  /** `redis://default:<password>@host:port`: what every client (BullMQ, redis-cli -u) connects with. */
  url: string;
  port: number;
  /** The password Redis requires (AUTH); a client without it gets NOAUTH. */
  password: string;
  /** The redis-server process id (recorded by `facepipe up`, so `facepipe down` can always stop it). */
  pid: number;
  stop(): Promise<void>;
}

export interface LocalRedisOptions {
  /** Working folder (the append-only file lives here when `appendOnly`). */
  directory: string;
  /** @defaultValue 'redis-server' on the PATH */
  binary?: string;
  /**
   * Keep the data in an append-only file in `directory` (fsync every second), so a restart
   * — of Redis or of the whole local deployment — keeps queues, batches and counts.
   * @defaultValue false (nothing on disk: tests and one-off runs)
   */
  appendOnly?: boolean;
  /** TCP port; 0 picks a free one (retried when another process takes it first). @defaultValue 0 */
  port?: number;
  /**
   * Address to listen on (a test host's address in a network namespace, say); Redis's protected
   * mode is turned off for it, as the address is the caller's own. @defaultValue 127.0.0.1
   */
  bind?: string;
  /**
   * The password Redis requires of every client (`requirepass`; given to redis-server on its
   * standard input, so it never shows in the process list). @defaultValue a random one
   */
  password?: string;
}

export const redisMissingMessage =
  'redis-server was not found on PATH. Install it (Debian/Ubuntu: sudo apt-get install redis-server; ' +
  'macOS: brew install redis) or point facepipe at a running Redis with REDIS_URL=redis://host:6379.';

/**
 * Starts a private redis-server on a loopback port (a free one unless `port` is given), keeping
 * nothing on disk unless `appendOnly`, and requiring a password of every client (random unless
 * `password` is given). Used by `facepipe run` and `facepipe up` when REDIS_URL is not set, and
 * by the tests.
 */
export async function startLocalRedis(options: LocalRedisOptions): Promise<LocalRedis> {
  mkdirSync(options.directory, { recursive: true, mode: 0o700 });
  const password = options.password ?? randomBytes(24).toString('hex');
  if (!/^[A-Za-z0-9_-]+$/.test(password)) throw new FacepipeError('INTERNAL', 'the Redis password must be letters, digits, - or _');
  const binary = options.binary ?? 'redis-server';
  const pidFile = join(options.directory, 'redis-server.pid.json');
  if (options.appendOnly) await stopStaleRedis(pidFile, options.directory);
  // redis-server gets SIGTERM when this process dies, even by kill -9 (Linux: setpriv's parent-death signal).
  const launcher = parentDeathLauncher();
  const persistence = options.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no'];
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const port = options.port || (await freePort());
    const child: ChildProcess = spawn(
      launcher ?? binary,
      // `-`: the configuration (requirepass) comes on stdin; the command line is world-readable in /proc.
      [...(launcher ? ['--pdeathsig', 'SIGTERM', '--', binary] : []), '-', '--port', String(port), '--bind', options.bind ?? '127.0.0.1', ...(options.bind ? ['--protected-mode', 'no'] : []), '--save', '', ...persistence, '--dir', options.directory, '--loglevel', 'notice'],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(`requirepass ${password}\n`);
    const outcome = await new Promise<'ready' | 'retry'>((resolve, reject) => {
      let out = '';
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        if (/ready to accept connections/i.test(out)) resolve('ready');
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'ENOENT' ? new FacepipeError('INTERNAL', redisMissingMessage) : err),
      );
      child.once('exit', () => resolve('retry'));
      setTimeout(() => resolve('retry'), 10_000).unref();
    });
    if (outcome === 'retry') {
      child.kill('SIGKILL');
      continue;
    }
    child.stdout?.resume();
    child.stderr?.resume();
    if (options.appendOnly) writeFileSync(pidFile, JSON.stringify({ pid: child.pid, parentPid: process.pid }));
    let stopping: Promise<void> | undefined;
    return {
      url: `redis://default:${password}@${options.bind ?? '127.0.0.1'}:${port}`,
      port,
      password,
      pid: child.pid ?? 0,
      stop: () => {
        stopping ??= new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }).then(() => {
          if (options.appendOnly) rmSync(pidFile, { force: true });
        });
        return stopping;
      },
    };
  }
  throw new FacepipeError('INTERNAL', 'could not start redis-server on a free port after 5 attempts');
}

/** `setpriv` (util-linux) when it is on the PATH of a Linux system, else undefined. */
function parentDeathLauncher(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'setpriv');
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}


/** The command line of a process (Linux /proc), or '' when it cannot be read. */
function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/**
 * Two redis-servers on one append-only file corrupt it. A redis-server recorded for this folder
 * that still runs is refused while the process that started it lives (another deployment), and
 * stopped (SIGTERM: it writes its append-only file and exits; SIGKILL after 10 s) when that
 * process is gone — an orphan of a deployment killed before parent-death signals existed.
 */
async function stopStaleRedis(pidFile: string, directory: string): Promise<void> {
  let recorded: { pid?: number; parentPid?: number };
  try {
    recorded = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid?: number; parentPid?: number };
  } catch {
    return;
  }
  const pid = Number(recorded.pid);
  if (!processAlive(pid) || (process.platform === 'linux' && !commandLine(pid).includes('redis-server'))) {
    rmSync(pidFile, { force: true });
    return;
  }
  const parent = Number(recorded.parentPid);
  if (parent !== process.pid && processAlive(parent)) {
    throw new FacepipeError(
      'INTERNAL',
      `a redis-server (pid ${pid}) started by another facepipe process (pid ${parent}) still runs on ${directory}; two on one append-only file would corrupt it. Stop that deployment first (facepipe down --data-dir <its data dir>)`,
    );
  }
  process.stderr.write(`facepipe: stopping a stale redis-server (pid ${pid}) left running on ${directory} by a deployment that is gone\n`);
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (processAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (processAlive(pid)) process.kill(pid, 'SIGKILL');
  while (processAlive(pid) && Date.now() < deadline + 5000) await new Promise((r) => setTimeout(r, 20));
  rmSync(pidFile, { force: true });
}
