import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FacepipeError } from '@facepipe/core';
import { freePort } from './local-redis.js';

const run = promisify(execFile);

/** Where Debian's PostgreSQL 15 binaries live. */
export const defaultPostgresBinDir = '/usr/lib/postgresql/15/bin';

export interface LocalPostgresOptions {
  /** PostgreSQL's bin folder (initdb, pg_ctl, postgres, pg_config). @defaultValue /usr/lib/postgresql/15/bin */
  binDir?: string;
  /**
   * Parent folder of the cluster (data, private socket folder, log); removed on stop. @defaultValue a
   * fresh folder under the OS temp dir
   */
  directory?: string;
  /** TCP port on 127.0.0.1; 0 picks a free one. @defaultValue 0 */
  port?: number;
  /**
   * Durable against a machine crash (fsync, full-page writes). Off for tests: nothing there
   * outlives the process, and a server killed (`pg_ctl stop -m immediate`) leaves its writes in
   * the OS's page cache, so committed data survives anyway. Synchronous commit stays on either
   * way: without it a COMMIT answers before its WAL leaves the server's memory, and a killed
   * server loses transactions the client saw commit (seen losing an indexed image in the
   * restart test). @defaultValue false
   */
  durable?: boolean;
  /** More `postgres -c` settings (e.g. maintenance_work_mem for a benchmark). */
  settings?: Record<string, string | number>;
  /** OS user the server runs as when this process is root (initdb refuses root). @defaultValue postgres */
  osUser?: string;
}

/** Why a local PostgreSQL cannot be started here (binaries or pgvector missing), with the fix. */
export class PostgresUnavailableError extends FacepipeError {
  constructor(message: string) {
    super('DATABASE_UNAVAILABLE', message);
    this.name = 'PostgresUnavailableError';
  }
}

/**
 * The reason a private PostgreSQL 15 with pgvector cannot run on this machine, or undefined when
 * it can: for tests' `skip` and for a clear error before anything is started.
 */
export function postgresMissing(binDir = defaultPostgresBinDir): string | undefined {
  for (const bin of ['initdb', 'pg_ctl', 'postgres', 'pg_config']) {
    if (!existsSync(join(binDir, bin))) {
      return `PostgreSQL 15 is not installed (${join(binDir, bin)} missing): apt-get install -y postgresql-15 postgresql-server-dev-15 build-essential, then bash scripts/pgvector.sh`;
    }
  }
  let lib: string;
  let share: string;
  try {
    const [libDir, shareDir] = execFileSync(join(binDir, 'pg_config'), ['--pkglibdir', '--sharedir'], { encoding: 'utf8' }).trim().split('\n');
    lib = join(libDir!, 'vector.so');
    share = join(shareDir!, 'extension', 'vector.control');
  } catch (err) {
    return `${join(binDir, 'pg_config')} failed: ${(err as Error).message}`;
  }
  if (!existsSync(lib) || !existsSync(share)) {
    return `pgvector is not installed in PostgreSQL 15 (${lib} missing): run bash scripts/pgvector.sh (builds it from ../shared/vendor)`;
  }
  if (process.getuid?.() === 0 && !existsSync('/usr/bin/setpriv')) return 'running as root without setpriv (util-linux), so initdb cannot run as another user';
  return undefined;
}

/**
 * A private PostgreSQL 15 cluster with pgvector: initdb in a fresh folder, pg_ctl on a free port
 * on 127.0.0.1, its Unix socket in a private folder, never the machine's own server. Started as
 * the `postgres` user when this process is root. A watchdog process stops the server and removes
 * the folder when this process dies without calling {@link LocalPostgres.stop} (killed, crashed,
 * its process group killed by a test runner's time limit).
 */
export class LocalPostgres {
  #stopping: Promise<void> | undefined;

  private constructor(
    readonly port: number,
    readonly directory: string,
    readonly binDir: string,
    readonly settings: Record<string, string>,
    readonly owned: boolean,
    readonly asUser: string | undefined,
    private readonly watchdog: ChildProcess,
  ) {}

  /** postgres:// URL of database `postgres` as superuser `postgres` (trust auth on loopback). */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  get dataDir(): string {
    return join(this.directory, 'data');
  }

  get logFile(): string {
    return join(this.directory, 'postgres.log');
  }

  static async start(options: LocalPostgresOptions = {}): Promise<LocalPostgres> {
    const binDir = options.binDir ?? defaultPostgresBinDir;
    const missing = postgresMissing(binDir);
    if (missing) throw new PostgresUnavailableError(missing);
    const owned = options.directory === undefined;
    const directory = options.directory ?? mkdtempSync(join(tmpdir(), 'facepipe-pg-'));
    mkdirSync(directory, { recursive: true });
    const asUser = process.getuid?.() === 0 ? (options.osUser ?? 'postgres') : undefined;
    try {
      if (asUser) await chownTo(directory, asUser);
      mkdirSync(join(directory, 'socket'), { recursive: true, mode: 0o700 });
      if (asUser) await chownTo(join(directory, 'socket'), asUser);
      if (!existsSync(join(directory, 'data', 'PG_VERSION'))) {
        await runAs(asUser, join(binDir, 'initdb'), ['-D', join(directory, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync', '--no-instructions']);
      }
    } catch (err) {
      if (owned) rmSync(directory, { recursive: true, force: true });
      throw new PostgresUnavailableError(`initdb failed: ${(err as Error).message}`);
    }
    const durable = options.durable ?? false;
    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: join(directory, 'socket'),
      ...(durable ? {} : { fsync: 'off', full_page_writes: 'off' }),
      ...Object.fromEntries(Object.entries(options.settings ?? {}).map(([k, v]) => [k, String(v)])),
    };
    // The watchdog is started first, in its own session (a test runner killing this process group
    // must not take it along): it holds a pipe from this process and cleans up at its EOF.
    const watchdog = spawn(process.execPath, [fileURLToPath(new URL('./postgres-watchdog.js', import.meta.url))], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
      env: { ...process.env, FACEPIPE_PG_CTL: join(binDir, 'pg_ctl'), FACEPIPE_PG_DATA: join(directory, 'data'), FACEPIPE_PG_USER: asUser ?? '', FACEPIPE_PG_REMOVE: owned ? directory : '' },
    });
    watchdog.unref();
    (watchdog.stdin as unknown as { unref?: () => void }).unref?.();
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const port = options.port || (await freePort());
      const pg = new LocalPostgres(port, directory, binDir, settings, owned, asUser, watchdog);
      try {
        await pg.#pgCtlStart();
        return pg;
      } catch (err) {
        lastError = err;
        // Another process took the port first: try another one (a fixed port only once).
        if (options.port) break;
      }
    }
    watchdog.stdin?.end();
    if (owned) rmSync(directory, { recursive: true, force: true });
    throw new PostgresUnavailableError(`PostgreSQL did not start: ${(lastError as Error).message}`);
  }

  /** Stops the server at once (`immediate`: like a crash, recovery on the next start) or cleanly (`fast`). */
  async stopServer(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await runAs(this.asUser, join(this.binDir, 'pg_ctl'), ['stop', '-D', this.dataDir, '-m', mode, '-w', '-t', '60']);
  }

  /** Starts the server again on the same port (after {@link LocalPostgres.stopServer}). */
  async startServer(): Promise<void> {
    await this.#pgCtlStart();
  }

  /** Stops the server and removes the folder it created; safe to call more than once. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.stopServer('fast').catch(() => undefined);
      if (this.owned) rmSync(this.directory, { recursive: true, force: true });
      this.watchdog.stdin?.write('stopped\n');
      this.watchdog.stdin?.end();
    })();
    return this.#stopping;
  }

  async #pgCtlStart(): Promise<void> {
    const opts = ['-p', String(this.port), ...Object.entries(this.settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])].map(shellQuote).join(' ');
    writeFileSync(this.logFile, '');
    if (this.asUser) await chownTo(this.logFile, this.asUser);
    try {
      await runAs(this.asUser, join(this.binDir, 'pg_ctl'), ['start', '-D', this.dataDir, '-w', '-t', '60', '-l', this.logFile, '-o', opts]);
    } catch (err) {
      const log = existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').trim().split('\n').slice(-5).join('\n') : '';
      throw new Error(`${(err as Error).message.trim()}\n${log}`);
    }
  }
}

/** Runs a PostgreSQL binary, as `user` (via setpriv) when given. */
async function runAs(user: string | undefined, bin: string, args: string[]): Promise<void> {
  const [file, argv] = user ? ['/usr/bin/setpriv', ['--reuid', user, '--regid', user, '--init-groups', '--', bin, ...args]] : [bin, args];
  // pg_ctl's child (the postmaster) keeps no pipe of ours open: it logs to -l, so this resolves.
  await run(file, argv, { env: { ...process.env, LC_ALL: 'C', PGTZ: 'UTC' }, timeout: 120_000 });
}

async function chownTo(path: string, user: string): Promise<void> {
  const { stdout } = await run('id', ['-u', user]);
  const { stdout: gid } = await run('id', ['-g', user]);
  chownSync(path, Number(stdout.trim()), Number(gid.trim()));
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./=:-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

