import pg from 'pg';
import { FacepipeError } from '@facepipe/core';
import { CheckedOutClient, isConnectionError } from './checked-out-client.js';
import { ClusterRepository } from './cluster-repository.js';
import { CrowdRepository } from './crowd-repository.js';
import { ErasureRepository } from './erasure-repository.js';
import { FaceClusterer, type ClusteringOptions } from './face-clusterer.js';
import { FaceRepository } from './face-repository.js';
import { lockFaceWrites } from './face-write-lock.js';
import { ImageRepository } from './image-repository.js';
import { migrate } from './migrator.js';
import { PeopleAuditRepository } from './people-audit-repository.js';
import { PeopleRepository } from './people-repository.js';
import type { Queryable } from './queryable.js';

export interface FaceIndexOptions {
  /** postgres:// URL of PostgreSQL with pgvector, or of the embedded database. */
  url: string;
  /** Connections kept open. @defaultValue 4 */
  maxConnections?: number;
  clustering?: Partial<ClusteringOptions>;
}

/** The repositories, bound to one connection (inside a transaction) or to the pool. */
export interface FaceIndexRepositories {
  db: Queryable;
  images: ImageRepository;
  faces: FaceRepository;
  people: PeopleRepository;
  clusters: ClusterRepository;
  clusterer: FaceClusterer;
  erasure: ErasureRepository;
  audit: PeopleAuditRepository;
  crowds: CrowdRepository;
}

/**
 * The face index: PostgreSQL + pgvector through a `pg` pool, schema migrated on connect. Every
 * change that touches more than one row goes through {@link FaceIndex.transaction}.
 */
export class FaceIndex {
  readonly pool: pg.Pool;
  readonly clustering: Partial<ClusteringOptions>;
  #closing: Promise<void> | undefined;
  #writesSinceAnalyze = 0;
  #analyzeAt = 1000;
  #analyzing: Promise<void> | undefined;

  private constructor(readonly options: FaceIndexOptions) {
    this.pool = new pg.Pool({ connectionString: options.url, max: options.maxConnections ?? 4 });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
    this.clustering = options.clustering ?? {};
  }

  /** Connects and brings the schema up to date; a database that does not answer is DATABASE_UNAVAILABLE. */
  static async connect(options: FaceIndexOptions): Promise<FaceIndex> {
    const index = new FaceIndex(options);
    try {
      await migrate(index.pool);
      await index.analyze();
    } catch (err) {
      await index.close();
      throw new FacepipeError('DATABASE_UNAVAILABLE', `face index at ${redactUrl(options.url)}: ${(err as Error).message}`);
    }
    return index;
  }

  /** Repositories on the pool (single statements, no transaction). */
  get repos(): FaceIndexRepositories {
    return this.#bind(this.pool);
  }

  /** Runs `fn` in one transaction on one connection; rolls back when it throws. */
  async transaction<T>(fn: (repos: FaceIndexRepositories) => Promise<T>): Promise<T> {
    const checkedOut = await CheckedOutClient.from(this.pool).catch((err: Error) => {
      throw new FacepipeError('DATABASE_UNAVAILABLE', `face index: ${err.message}`);
    });
    const { client } = checkedOut;
    let failure: unknown;
    try {
      await client.query('BEGIN');
      const out = await fn(this.#bind(client));
      await client.query('COMMIT');
      return out;
    } catch (err) {
      failure = err;
      if (!checkedOut.lost && !isConnectionError(err)) await client.query('ROLLBACK').catch(() => undefined);
      // A lost connection rolled the transaction back on the server: a retry starts afresh.
      if (checkedOut.lost || isConnectionError(err)) throw new FacepipeError('DATABASE_UNAVAILABLE', `face index: connection lost: ${(checkedOut.lost ?? (err as Error)).message}`);
      throw err;
    } finally {
      checkedOut.release(failure);
    }
  }

  /**
   * Like {@link FaceIndex.transaction}, holding the index's write lock from the start
   * (lockFaceWrites): for every change to which person or cluster a face belongs.
   */
  writeTransaction<T>(fn: (repos: FaceIndexRepositories) => Promise<T>): Promise<T> {
    return this.transaction(async (r) => {
      await lockFaceWrites(r.db);
      return fn(r);
    });
  }

  /**
   * Refreshes the planner's statistics. PGlite runs no autovacuum: without this, a table that
   * grew since the last ANALYZE is planned as if small (a re-index page becomes a full scan and
   * sort, a neighbour query may skip HNSW). Cheap: ANALYZE samples at most 30 000 rows.
   */
  async analyze(): Promise<void> {
    this.#analyzing ??= this.pool
      .query('ANALYZE images, faces, people, clusters')
      .then(() => undefined)
      .finally(() => {
        this.#analyzing = undefined;
      });
    return this.#analyzing;
  }

  /** Counts faces written; statistics are refreshed each time the count since the last refresh doubles. */
  noteWrites(faces: number): void {
    this.#writesSinceAnalyze += faces;
    if (this.#writesSinceAnalyze < this.#analyzeAt) return;
    this.#analyzeAt = Math.min(this.#analyzeAt * 2, 100_000);
    this.#writesSinceAnalyze = 0;
    void this.analyze().catch(() => undefined);
  }

  /** Database size in bytes (tables and indexes). */
  async sizeBytes(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('SELECT pg_database_size(current_database()) AS n');
    return Number(rows[0]!.n);
  }

  close(): Promise<void> {
    this.#closing ??= this.pool.end().catch(() => undefined);
    return this.#closing;
  }

  #bind(db: Queryable): FaceIndexRepositories {
    return {
      db,
      images: new ImageRepository(db),
      faces: new FaceRepository(db),
      people: new PeopleRepository(db),
      clusters: new ClusterRepository(db),
      clusterer: new FaceClusterer(db, this.clustering),
      erasure: new ErasureRepository(db),
      audit: new PeopleAuditRepository(db),
      crowds: new CrowdRepository(db),
    };
  }
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}
