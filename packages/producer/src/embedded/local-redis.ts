import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { FacepipeError } from '@facepipe/core';

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
  url: string;
  port: number;
  stop(): Promise<void>;
}

export const redisMissingMessage =
  'redis-server was not found on PATH. Install it (Debian/Ubuntu: sudo apt-get install redis-server; ' +
  'macOS: brew install redis) or point facepipe at a running Redis with REDIS_URL=redis://host:6379.';

/**
 * Starts a private redis-server on a free loopback port, keeping nothing on disk. Used by
 * `facepipe run` when REDIS_URL is not set, and by the tests.
 */
export async function startLocalRedis(options: { directory: string; binary?: string }): Promise<LocalRedis> {
  mkdirSync(options.directory, { recursive: true });
  const binary = options.binary ?? 'redis-server';
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const port = await freePort();
    const child: ChildProcess = spawn(
      binary,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', options.directory, '--loglevel', 'notice'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
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
    let stopping: Promise<void> | undefined;
    return {
      url: `redis://127.0.0.1:${port}`,
      port,
      stop: () => {
        stopping ??= new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        });
        return stopping;
      },
    };
  }
  throw new FacepipeError('INTERNAL', 'could not start redis-server on a free port after 5 attempts');
}
