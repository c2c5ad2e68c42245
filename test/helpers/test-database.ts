import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalPostgres, postgresMissing } from '@facepipe/devstack';
import { EmbeddedDatabase } from '@facepipe/face-index';

export interface TestDatabase {
  url: string;
  env: { DATABASE_URL: string };
  stop(): Promise<void>;
}

/** The embedded face index database (PGlite + pgvector over its socket) in a fresh folder, for one test file. */
export async function startDatabase(): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'facepipe-db-'));
  const db = await EmbeddedDatabase.start({ directory: dir });
  return {
    url: db.url,
    env: { DATABASE_URL: db.url },
    stop: async () => {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestPostgres extends TestDatabase {
  server: LocalPostgres;
  /** Stops the server like a crash (`immediate`) or cleanly, and starts it again on the same port. */
  restart(mode?: 'fast' | 'immediate'): Promise<void>;
}

/**
 * For `test(name, { skip: postgresSkip }, ...)`: why a real PostgreSQL 15 with pgvector cannot run
 * here (with the command that fixes it), or false when it can.
 */
export const postgresSkip: string | false = (() => {
  const missing = postgresMissing();
  return missing ? `no PostgreSQL 15 with pgvector here: ${missing}` : false;
})();

/**
 * A private PostgreSQL 15 cluster with pgvector (initdb + pg_ctl on a free port, never the
 * machine's own server), for one test file; removed on stop, and by its watchdog if the test
 * process dies first.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const server = await LocalPostgres.start();
  return {
    server,
    url: server.url,
    env: { DATABASE_URL: server.url },
    restart: async (mode = 'immediate') => {
      await server.stopServer(mode);
      await server.startServer();
    },
    stop: () => server.stop(),
  };
}

export type DatabaseKind = 'pglite' | 'postgres';

/** Both engines the face index runs on: the embedded default and the production one. */
export const databaseKinds: readonly { kind: DatabaseKind; skip: string | false; start: () => Promise<TestDatabase> }[] = [
  { kind: 'pglite', skip: false, start: startDatabase },
  { kind: 'postgres', skip: postgresSkip, start: startPostgres },
];
