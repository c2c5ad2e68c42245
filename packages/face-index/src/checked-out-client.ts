import type { Pool, PoolClient } from 'pg';

/**
 * A client taken from the pool for a transaction, guarded against losing its connection.
 *
 * Why: pg-pool listens for a client's 'error' only while it is idle in the pool. A checked-out
 * client whose server goes away (PostgreSQL restarted, a failover, the connection killed) emits
 * 'error' with nobody listening — an unhandled 'error' event that ends the whole worker process,
 * even when the transaction's own query fails cleanly too. Seen with a classify worker holding a
 * transaction while PostgreSQL restarted (test/e2e/postgres-classify.test.ts).
 */
export class CheckedOutClient {
  #lost: Error | undefined;
  #released = false;
  readonly #onError = (err: Error): void => {
    this.#lost ??= err;
  };

  private constructor(readonly client: PoolClient) {
    client.on('error', this.#onError);
  }

  static async from(pool: Pool): Promise<CheckedOutClient> {
    return new CheckedOutClient(await pool.connect());
  }

  /** The connection error seen while checked out, if any. */
  get lost(): Error | undefined {
    return this.#lost;
  }

  /** Back to the pool; a client whose connection broke is closed instead of reused. */
  release(err?: unknown): void {
    if (this.#released) return;
    this.#released = true;
    const broken = this.#lost ?? (isConnectionError(err) ? (err as Error) : undefined);
    // A broken client keeps a listener: it may still report its end after this.
    if (!broken) this.client.removeListener('error', this.#onError);
    this.client.release(broken);
  }
}

/** SQLSTATEs of a lost or refused connection: class 08, and the server shutting down or starting (57P01–57P03). */
const connectionStates = /^(08|57P0[1-3])/;

/** Whether `err` says the connection to the database is gone (not that a statement was wrong). */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (connectionStates.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code))) return true;
  return /Connection terminated|Client has encountered a connection error|not queryable/i.test(err.message);
}
