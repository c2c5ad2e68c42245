import type { Queryable } from './queryable.js';

/**
 * Takes the face index's write lock until the transaction ends (re-entrant within it). Every
 * change to which person or cluster a face belongs holds it: the classify stage's write, the
 * clustering steps, naming a cluster, labels, merging and deleting people.
 *
 * Why one advisory lock and not row locks: a clustering step reads the neighbourhoods of many
 * faces and may merge whole clusters, so the faces and clusters it decided on must not change
 * until it commits — row locks would cover only rows already read, and faces another worker
 * commits meanwhile are not even visible to lock. Taken first, before the transaction writes any
 * row, it also gives every writer the same lock order, so two classify jobs (or a job and a
 * rename) cannot deadlock on each other's face rows. PGlite runs one transaction at a time
 * anyway; on PostgreSQL (READ COMMITTED) this is what keeps concurrent classify workers
 * correct: the next holder's statements see everything the previous one committed.
 */
export async function lockFaceWrites(db: Queryable): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock(hashtext('facepipe.face-writes'))`);
}
