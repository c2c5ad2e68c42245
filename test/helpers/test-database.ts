import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
