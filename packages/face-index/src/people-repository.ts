import type { Queryable } from './queryable.js';

export interface Person {
  id: string;
  name: string;
  hidden: boolean;
}

export interface PersonSummary extends Person {
  faces: number;
  /** Faces that name others: enrolled, from a named cluster, or named by hand. */
  examples: number;
}

/** The `people` and `enrollment_examples` tables. */
export class PeopleRepository {
  constructor(readonly db: Queryable) {}

  async byName(name: string): Promise<Person | undefined> {
    const { rows } = await this.db.query<Person>('SELECT id, name, hidden FROM people WHERE name = $1', [name]);
    return rows[0];
  }

  async byId(id: string): Promise<Person | undefined> {
    const { rows } = await this.db.query<Person>('SELECT id, name, hidden FROM people WHERE id = $1', [id]);
    return rows[0];
  }

  /** The person of this name, created when new. */
  async ensure(name: string): Promise<Person> {
    const { rows } = await this.db.query<Person>(
      `INSERT INTO people (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id, name, hidden`,
      [name],
    );
    return rows[0]!;
  }

  async list(options: { includeHidden?: boolean } = {}): Promise<PersonSummary[]> {
    const { rows } = await this.db.query<Person & { faces: string; examples: string }>(
      `SELECT p.id, p.name, p.hidden,
              count(f.id) AS faces,
              count(f.id) FILTER (WHERE f.person_source IN ('enrolled', 'hand')) AS examples
       FROM people p LEFT JOIN faces f ON f.person_id = p.id
       ${options.includeHidden ? '' : 'WHERE NOT p.hidden'}
       GROUP BY p.id ORDER BY p.name`,
    );
    return rows.map((r) => ({ id: r.id, name: r.name, hidden: r.hidden, faces: Number(r.faces), examples: Number(r.examples) }));
  }

  async rename(id: string, name: string): Promise<void> {
    await this.db.query('UPDATE people SET name = $2 WHERE id = $1', [id, name]);
  }

  async setHidden(id: string, hidden: boolean): Promise<void> {
    await this.db.query('UPDATE people SET hidden = $2 WHERE id = $1', [id, hidden]);
  }

  /** Moves every face, example and label of `fromId` to `intoId`, then removes `fromId`. */
  async merge(fromId: string, intoId: string): Promise<void> {
    await this.db.query('UPDATE faces SET person_id = $2 WHERE person_id = $1', [fromId, intoId]);
    await this.db.query('UPDATE enrollment_examples SET person_id = $2 WHERE person_id = $1', [fromId, intoId]);
    await this.db.query('UPDATE face_labels SET person_id = $2 WHERE person_id = $1', [fromId, intoId]);
    await this.db.query('DELETE FROM people WHERE id = $1', [fromId]);
  }

  /** Removes the person: their faces become nobody's (and may be clustered again), their examples and labels go. */
  async delete(id: string): Promise<void> {
    await this.db.query(`UPDATE faces SET person_id = NULL, person_source = NULL, match_distance = NULL WHERE person_id = $1`, [id]);
    await this.db.query('DELETE FROM people WHERE id = $1', [id]);
  }

  /** Records a face as an example of the person (idempotent per face). */
  async addExample(personId: string, example: { imageId: string; faceIndex: number; source: string; origin: 'enrollment' | 'cluster' }): Promise<void> {
    await this.db.query(
      `INSERT INTO enrollment_examples (person_id, image_id, face_index, source, origin) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (image_id, face_index) DO UPDATE SET person_id = EXCLUDED.person_id, source = EXCLUDED.source, origin = EXCLUDED.origin`,
      [personId, example.imageId, example.faceIndex, example.source, example.origin],
    );
  }

  /** The example recorded for a face, if any. */
  async examplesOfImage(imageId: string): Promise<{ faceIndex: number; personId: string }[]> {
    const { rows } = await this.db.query<{ face_index: number; person_id: string }>('SELECT face_index, person_id FROM enrollment_examples WHERE image_id = $1', [imageId]);
    return rows.map((r) => ({ faceIndex: r.face_index, personId: r.person_id }));
  }

  async removeExample(imageId: string, faceIndex: number): Promise<void> {
    await this.db.query('DELETE FROM enrollment_examples WHERE image_id = $1 AND face_index = $2', [imageId, faceIndex]);
  }

  /** {@link PeopleRepository.examplesOfImage} of several images in one statement. */
  async examplesOfImages(imageIds: readonly string[]): Promise<Map<string, { faceIndex: number; personId: string }[]>> {
    const out = new Map(imageIds.map((id) => [id, [] as { faceIndex: number; personId: string }[]]));
    if (imageIds.length === 0) return out;
    const { rows } = await this.db.query<{ image_id: string; face_index: number; person_id: string }>('SELECT image_id, face_index, person_id FROM enrollment_examples WHERE image_id = ANY($1::text[])', [imageIds]);
    for (const r of rows) out.get(r.image_id)?.push({ faceIndex: r.face_index, personId: r.person_id });
    return out;
  }

  /** {@link PeopleRepository.labelsOfImage} of several images in one statement. */
  async labelsOfImages(imageIds: readonly string[]): Promise<Map<string, { box: number[]; personId: string | null; name: string | null; by: string | null; at: string }[]>> {
    const out = new Map(imageIds.map((id) => [id, [] as { box: number[]; personId: string | null; name: string | null; by: string | null; at: string }[]]));
    if (imageIds.length === 0) return out;
    const { rows } = await this.db.query<{ image_id: string; box: number[]; person_id: string | null; name: string | null; labelled_by: string | null; labelled_at: Date }>(
      'SELECT l.image_id, l.box, l.person_id, p.name, l.labelled_by, l.labelled_at FROM face_labels l LEFT JOIN people p ON p.id = l.person_id WHERE l.image_id = ANY($1::text[])',
      [imageIds],
    );
    for (const r of rows) out.get(r.image_id)?.push({ box: r.box, personId: r.person_id, name: r.name, by: r.labelled_by, at: r.labelled_at.toISOString() });
    return out;
  }

  /** {@link PeopleRepository.rejectionsOfImage} of several images in one statement. */
  async rejectionsOfImages(imageIds: readonly string[]): Promise<Map<string, Map<number, string[]>>> {
    const out = new Map(imageIds.map((id) => [id, new Map<number, string[]>()]));
    if (imageIds.length === 0) return out;
    const { rows } = await this.db.query<{ image_id: string; face_index: number; person_id: string }>('SELECT image_id, face_index, person_id FROM suggestion_rejections WHERE image_id = ANY($1::text[])', [imageIds]);
    for (const r of rows) {
      const m = out.get(r.image_id);
      m?.set(r.face_index, [...(m.get(r.face_index) ?? []), r.person_id]);
    }
    return out;
  }

  /** Names given by hand to boxes of an image (person null = "nobody I know"). */
  async labelsOfImage(imageId: string): Promise<{ box: number[]; personId: string | null; name: string | null; by: string | null; at: string }[]> {
    const { rows } = await this.db.query<{ box: number[]; person_id: string | null; name: string | null; labelled_by: string | null; labelled_at: Date }>(
      'SELECT l.box, l.person_id, p.name, l.labelled_by, l.labelled_at FROM face_labels l LEFT JOIN people p ON p.id = l.person_id WHERE l.image_id = $1',
      [imageId],
    );
    return rows.map((r) => ({ box: r.box, personId: r.person_id, name: r.name, by: r.labelled_by, at: r.labelled_at.toISOString() }));
  }

  /** Sets the hand label of a box, replacing any label of the same box. */
  async setLabel(imageId: string, box: readonly number[], personId: string | null, by: string | null): Promise<void> {
    await this.db.query(
      `DELETE FROM face_labels WHERE image_id = $1 AND array_length(box, 1) = 4
         AND abs(box[1] - $2) < 0.5 AND abs(box[2] - $3) < 0.5 AND abs(box[3] - $4) < 0.5 AND abs(box[4] - $5) < 0.5`,
      [imageId, box[0], box[1], box[2], box[3]],
    );
    await this.db.query('INSERT INTO face_labels (image_id, box, person_id, labelled_by) VALUES ($1, $2, $3, $4)', [imageId, [...box], personId, by]);
  }

  async clearLabel(imageId: string, box: readonly number[]): Promise<void> {
    await this.db.query(
      `DELETE FROM face_labels WHERE image_id = $1 AND abs(box[1] - $2) < 0.5 AND abs(box[2] - $3) < 0.5 AND abs(box[3] - $4) < 0.5 AND abs(box[4] - $5) < 0.5`,
      [imageId, box[0], box[1], box[2], box[3]],
    );
  }

  /** "Not this person" on a face's suggestion: never suggested or named automatically as them again. */
  async rejectSuggestion(imageId: string, faceIndex: number, personId: string): Promise<void> {
    await this.db.query('INSERT INTO suggestion_rejections (image_id, face_index, person_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [imageId, faceIndex, personId]);
  }

  /** People each face of an image was said not to be, by face index. */
  async rejectionsOfImage(imageId: string): Promise<Map<number, string[]>> {
    const { rows } = await this.db.query<{ face_index: number; person_id: string }>('SELECT face_index, person_id FROM suggestion_rejections WHERE image_id = $1', [imageId]);
    const out = new Map<number, string[]>();
    for (const r of rows) out.set(r.face_index, [...(out.get(r.face_index) ?? []), r.person_id]);
    return out;
  }
}
