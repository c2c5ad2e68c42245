import type { Pool } from 'pg';
import { CheckedOutClient } from './checked-out-client.js';
import { migrations as schemaMigrations, type Migration } from './migrations.js';

/** Arbitrary, fixed key of the advisory lock that serialises migrations across processes. */
const MIGRATION_LOCK = 7_301_948_112;

/**
 * Brings the schema to the newest version. Every process may call it at start: an advisory lock
 * makes the others wait, and each version is applied once, in its own transaction.
 */
export async function migrate(pool: Pool, migrations: readonly Migration[] = schemaMigrations): Promise<{ applied: number[]; version: number }> {
  const checkedOut = await CheckedOutClient.from(pool);
  const { client } = checkedOut;
  let failure: unknown;
  const applied: number[] = [];
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((r) => r.version));
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return { applied, version: Math.max(0, ...done, ...applied) };
  } catch (err) {
    failure = err;
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    checkedOut.release(failure);
  }
}
