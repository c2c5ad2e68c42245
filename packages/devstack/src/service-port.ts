import { createServer } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './local-redis.js';

/** The file that keeps a data dir's service port, so every `facepipe up` there serves on it. */
export function servicePortFile(dataDir: string): string {
  return join(dataDir, 'port');
}

/** Thrown when the port a local deployment is to serve on is held by another program. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    kept: boolean,
    file: string,
  ) {
    super(
      `port ${port}${kept ? ` (this data dir's, kept in ${file})` : ''} is in use by another program: stop that program, or choose another port with \`facepipe up --port <n>\` (kept for the next up; --port 0 picks a free one)`,
    );
    this.name = 'PortInUseError';
  }
}

/** Whether something listens on `host:port` already (a listen there fails with EADDRINUSE). */
export function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(true) : reject(err)));
    server.listen(port, host, () => server.close(() => resolve(false)));
  });
}

/**
 * The port of the service and dashboard of the local deployment in `dataDir`, chosen once and
 * kept in `<dataDir>/port` so that its URL (and bookmarks) survive restarts: `requested` when
 * given (0: a new free one), else the kept one, else a free one. Written back once it is known
 * to be free; {@link PortInUseError} when another program holds it.
 */
export async function claimServicePort(dataDir: string, requested?: number, host = '127.0.0.1'): Promise<number> {
  const file = servicePortFile(dataDir);
  const kept = requested === undefined ? readKeptPort(file) : undefined;
  const port = requested !== undefined && requested !== 0 ? requested : (kept ?? (await freePort()));
  if (await portInUse(port, host)) throw new PortInUseError(port, kept !== undefined, file);
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${port}\n`);
  return port;
}

function readKeptPort(file: string): number | undefined {
  try {
    const port = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(port) && port > 0 && port <= 65535 ? port : undefined;
  } catch {
    return undefined;
  }
}
