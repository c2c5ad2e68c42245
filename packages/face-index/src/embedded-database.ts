import fs, { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { keepExtendedQueriesWhole } from './pglite-query-order.js';

export interface EmbeddedDatabaseOptions {
  /** Folder holding the database files (created if missing; kept between runs). */
  directory: string;
  /**
   * Where clients connect. `socket` (the default): only a Unix socket in `directory`
   * (`.s.PGSQL.5432`), so only users who can enter the folder — its owner, as a local deployment's
   * data dir is 0700 — reach the database; the embedded engine asks for no password. `tcp`: a
   * loopback port, open to every local user (tests of the wire protocol only).
   * @defaultValue 'socket'
   */
  listen?: 'socket' | 'tcp';
  /** Loopback port when `listen` is `tcp`. @defaultValue 0 (a free port) */
  port?: number;
  /**
   * Client connections served at once; the server multiplexes them onto the one PGlite
   * session and runs each transaction alone. @defaultValue 64
   */
  maxConnections?: number;
}

/** What a running embedded database writes beside its files, so other commands can find it. */
export interface EmbeddedDatabaseAnnouncement {
  url: string;
  pid: number;
}

const announcementFile = 'facepipe-server.json';
/** The socket's name as libpq and node-postgres derive it from a folder and the default port. */
const socketName = '.s.PGSQL.5432';
/** sun_path holds 108 bytes on Linux, the terminating NUL included. */
const maxSocketPathBytes = 107;

/** Thrown when the database folder's path is too long for a Unix socket path. */
export class SocketPathTooLongError extends Error {
  constructor(readonly path: string) {
    super(`the embedded database's socket path ${path} is ${Buffer.byteLength(path)} bytes, over the ${maxSocketPathBytes} a Unix socket allows: use a shorter --data-dir`);
    this.name = 'SocketPathTooLongError';
  }
}

/** Folders whose files PGlite may only make owner-only (see {@link keepFilesOwnerOnly}). */
const ownerOnlyFolders = new Set<string>();

/**
 * PGlite's Emscripten file system chmods every file it creates to 0666 after creating it
 * (strace of a fresh database: 975 `chmod(…, 0100666)` calls), which overrides the process's umask
 * and left the files of `<data-dir>/db` world-readable. Its NODEFS calls node's `fs.chmodSync`,
 * so this process masks those calls to owner-only for paths inside the database folders it serves.
 * Installed once per process; other paths are untouched.
 */
function keepFilesOwnerOnly(directory: string): void {
  if (ownerOnlyFolders.size === 0) {
    const chmodSync = fs.chmodSync;
    fs.chmodSync = (path, mode) => {
      const inside = typeof path === 'string' && [...ownerOnlyFolders].some((dir) => path.startsWith(dir));
      chmodSync(path, inside ? (typeof mode === 'number' ? mode : parseInt(mode, 8)) & ~0o077 : mode);
    };
  }
  ownerOnlyFolders.add(`${directory}/`);
}

/** `postgres://postgres@<folder, percent-encoded>/postgres`: node-postgres and psql read a host that starts with `/` as a socket folder. */
export function socketDatabaseUrl(directory: string): string {
  return `postgres://postgres@${encodeURIComponent(directory)}/postgres`;
}

/**
 * PGlite (PostgreSQL in WebAssembly) with pgvector, stored under a folder and served over the
 * PostgreSQL wire protocol on a Unix socket in that folder (PGlite has no password
 * authentication: the folder's permissions are the lock): every process talks to it with the `pg` driver and the
 * same SQL as to a real PostgreSQL with pgvector. One process owns the files at a time; while it
 * runs, `<directory>/facepipe-server.json` names its URL ({@link runningEmbeddedDatabase}).
 */
export class EmbeddedDatabase {
  #closing: Promise<void> | undefined;

  private constructor(
    readonly url: string,
    readonly directory: string,
    readonly db: PGlite,
    readonly server: PGLiteSocketServer,
  ) {}

  /** `DATABASE_URL=<url>`, for child processes' environments. */
  get env(): Record<string, string> {
    return { DATABASE_URL: this.url };
  }

  static async start(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
    mkdirSync(options.directory, { recursive: true, mode: 0o700 });
    keepFilesOwnerOnly(resolve(options.directory));
    const tcp = options.listen === 'tcp';
    const socketPath = join(options.directory, socketName);
    if (!tcp) {
      if (Buffer.byteLength(socketPath) > maxSocketPathBytes) throw new SocketPathTooLongError(socketPath);
      // A socket left by a process that died goes; a live owner's stays, and listening fails (EADDRINUSE).
      if (runningEmbeddedDatabase(options.directory) === undefined) rmSync(socketPath, { force: true });
    }
    const db = await PGlite.create({ dataDir: join(options.directory, 'pgdata'), extensions: { vector } });
    const maxConnections = options.maxConnections ?? 64;
    const server = tcp
      ? new PGLiteSocketServer({ db, host: '127.0.0.1', port: options.port ?? 0, maxConnections })
      : new PGLiteSocketServer({ db, path: socketPath, maxConnections });
    keepExtendedQueriesWhole(server);
    try {
      await server.start();
    } catch (err) {
      await db.close();
      throw err;
    }
    const url = tcp ? `postgres://postgres@${server.getServerConn()}/postgres` : socketDatabaseUrl(options.directory);
    const announcement: EmbeddedDatabaseAnnouncement = { url, pid: process.pid };
    writeFileSync(join(options.directory, announcementFile), `${JSON.stringify(announcement)}\n`);
    return new EmbeddedDatabase(url, options.directory, db, server);
  }

  /** Stops serving and closes the files; safe to call more than once. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      rmSync(join(this.directory, announcementFile), { force: true });
      await this.server.stop();
      await this.db.close();
    })();
    return this.#closing;
  }
}

/** The URL of an embedded database another live process is serving from `directory`, if any. */
export function runningEmbeddedDatabase(directory: string): string | undefined {
  let announcement: EmbeddedDatabaseAnnouncement;
  try {
    announcement = JSON.parse(readFileSync(join(directory, announcementFile), 'utf8')) as EmbeddedDatabaseAnnouncement;
  } catch {
    return undefined;
  }
  try {
    process.kill(announcement.pid, 0);
  } catch (err) {
    // EPERM: alive but not ours; ESRCH: it died without cleaning up.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return announcement.url;
}
