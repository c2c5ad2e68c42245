import type { Queryable } from './queryable.js';

/** What was done to people, clusters or faces by hand. */
export type PeopleAction = 'rename' | 'hide' | 'show' | 'delete' | 'merge' | 'name-cluster' | 'not-this-person' | 'not-a-face' | 'ignore-cluster' | 'cover';

/** One entry of the people audit log. */
export interface PeopleAuditEntry {
  id: string;
  at: string;
  /** `key:<API key id>`, `token`, `open` (no token configured) or `local` (the CLI). */
  actor: string;
  action: PeopleAction;
  /** What was done, in words ("renamed Jane into Jane Doe"). */
  summary: string;
  /** What undoes it (action-specific; see FaceLibrary.undo). */
  undo: unknown;
  undoneAt: string | null;
  undoneBy: string | null;
}

interface Row {
  id: string;
  at: Date;
  actor: string;
  action: PeopleAction;
  summary: string;
  undo: unknown;
  undone_at: Date | null;
  undone_by: string | null;
}

const columns = 'id, at, actor, action, summary, undo, undone_at, undone_by';
const fromRow = (r: Row): PeopleAuditEntry => ({
  id: r.id,
  at: r.at.toISOString(),
  actor: r.actor,
  action: r.action,
  summary: r.summary,
  undo: r.undo,
  undoneAt: r.undone_at?.toISOString() ?? null,
  undoneBy: r.undone_by,
});

/** The `people_audit` table: who did what to whom, and what undoes it. */
export class PeopleAuditRepository {
  constructor(readonly db: Queryable) {}

  async record(entry: { actor: string; action: PeopleAction; summary: string; undo: unknown; personIds?: readonly string[]; imageIds?: readonly string[] }): Promise<string> {
    const { rows } = await this.db.query<{ id: string }>(
      'INSERT INTO people_audit (actor, action, summary, undo, person_ids, image_ids) VALUES ($1, $2, $3, $4, $5::bigint[], $6::text[]) RETURNING id',
      [entry.actor, entry.action, entry.summary, JSON.stringify(entry.undo), [...new Set(entry.personIds ?? [])], [...new Set(entry.imageIds ?? [])]],
    );
    return rows[0]!.id;
  }

  /** Newest first, a page of `limit` after (older than) entry `before`. */
  async list(before: string | null, limit: number): Promise<PeopleAuditEntry[]> {
    const { rows } = await this.db.query<Row>(`SELECT ${columns} FROM people_audit WHERE $1::bigint IS NULL OR id < $1::bigint ORDER BY id DESC LIMIT $2`, [before, limit]);
    return rows.map(fromRow);
  }

  /** The newest entry not undone yet: the one an undo applies to. */
  async newestUndoable(): Promise<PeopleAuditEntry | undefined> {
    const { rows } = await this.db.query<Row>(`SELECT ${columns} FROM people_audit WHERE undone_at IS NULL ORDER BY id DESC LIMIT 1`);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async markUndone(id: string, by: string): Promise<void> {
    await this.db.query('UPDATE people_audit SET undone_at = now(), undone_by = $2 WHERE id = $1', [id, by]);
  }

  /** Adds ids an erasure must find the entry by (a person created by undoing, say). */
  async addPeople(id: string, personIds: readonly string[]): Promise<void> {
    await this.db.query('UPDATE people_audit SET person_ids = person_ids || $2::bigint[] WHERE id = $1', [id, personIds]);
  }

  /** Erasure: every entry about this person. */
  async eraseOfPerson(personId: string): Promise<number> {
    return (await this.db.query('DELETE FROM people_audit WHERE $1::bigint = ANY(person_ids)', [personId])).rowCount ?? 0;
  }

  /** Erasure: every entry about these images. */
  async eraseOfImages(imageIds: readonly string[]): Promise<number> {
    if (imageIds.length === 0) return 0;
    return (await this.db.query('DELETE FROM people_audit WHERE image_ids && $1::text[]', [imageIds])).rowCount ?? 0;
  }
}
