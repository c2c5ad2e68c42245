import type { Queryable } from './queryable.js';

export interface Person {
  id: string;
  name: string;
  hidden: boolean;
}

/** The face shown for a person. */
export interface CoverFace {
  faceId: string;
  imageId: string;
  faceIndex: number;
  box: number[];
}

export interface PersonSummary extends Person {
  faces: number;
  /** The cover set by hand while it is still theirs, else their best face (enrolled or by hand first, then the nearest match); null without faces. */
  cover: CoverFace | null;
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

  async list(options: { includeHidden?: boolean; name?: string } = {}): Promise<PersonSummary[]> {
    const filters = [options.includeHidden ? 'true' : 'NOT p.hidden', options.name === undefined ? 'true' : 'p.name = $1'];
    const { rows } = await this.db.query<Person & { faces: string; examples: string; cover_id: string | null; cover_image: string | null; cover_index: number | null; cover_box: number[] | null }>(
      `SELECT p.id, p.name, p.hidden,
              (SELECT count(*) FROM faces f WHERE f.person_id = p.id) AS faces,
              (SELECT count(*) FROM faces f WHERE f.person_id = p.id AND f.person_source IN ('enrolled', 'hand')) AS examples,
              c.id AS cover_id, c.image_id AS cover_image, c.face_index AS cover_index, c.box AS cover_box
       FROM people p
       LEFT JOIN LATERAL (
         SELECT cf.id, cf.image_id, cf.face_index, cf.box FROM faces cf WHERE cf.person_id = p.id
         ORDER BY (cf.id = p.cover_face_id) DESC NULLS LAST, (cf.person_source IN ('enrolled', 'hand')) DESC NULLS LAST, cf.match_distance ASC NULLS FIRST, cf.quality DESC NULLS LAST, cf.id
         LIMIT 1) c ON true
       WHERE ${filters.join(' AND ')}
       ORDER BY p.name`,
      options.name === undefined ? [] : [options.name],
    );
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      hidden: r.hidden,
      faces: Number(r.faces),
      examples: Number(r.examples),
      cover: r.cover_id === null ? null : { faceId: r.cover_id, imageId: r.cover_image!, faceIndex: r.cover_index!, box: r.cover_box! },
    }));
  }

  /** The cover face set by hand (null: none, the best face is shown). */
  async coverFaceId(id: string): Promise<string | null> {
    const { rows } = await this.db.query<{ cover_face_id: string | null }>('SELECT cover_face_id FROM people WHERE id = $1', [id]);
    return rows[0]?.cover_face_id ?? null;
  }

  async setCover(id: string, faceId: string | null): Promise<void> {
    await this.db.query('UPDATE people SET cover_face_id = $2 WHERE id = $1', [id, faceId]);
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

  /** The hand label of a box, if any (for an undo). */
  async labelOfBox(imageId: string, box: readonly number[]): Promise<{ personId: string | null; by: string | null; notFace: boolean } | undefined> {
    const { rows } = await this.db.query<{ person_id: string | null; labelled_by: string | null; not_face: boolean }>(
      `SELECT person_id, labelled_by, not_face FROM face_labels WHERE image_id = $1 AND array_length(box, 1) = 4
         AND abs(box[1] - $2) < 0.5 AND abs(box[2] - $3) < 0.5 AND abs(box[3] - $4) < 0.5 AND abs(box[4] - $5) < 0.5 LIMIT 1`,
      [imageId, box[0], box[1], box[2], box[3]],
    );
    return rows[0] ? { personId: rows[0].person_id, by: rows[0].labelled_by, notFace: rows[0].not_face } : undefined;
  }

  /** The example recorded for one face, if any (for an undo). */
  async exampleOf(imageId: string, faceIndex: number): Promise<{ personId: string; source: string; origin: 'enrollment' | 'cluster' } | undefined> {
    const { rows } = await this.db.query<{ person_id: string; source: string; origin: 'enrollment' | 'cluster' }>(
      'SELECT person_id, source, origin FROM enrollment_examples WHERE image_id = $1 AND face_index = $2',
      [imageId, faceIndex],
    );
    return rows[0] ? { personId: rows[0].person_id, source: rows[0].source, origin: rows[0].origin } : undefined;
  }

  /** Every example of a person (for an undo). */
  async examplesOf(personId: string): Promise<{ personId: string; imageId: string; faceIndex: number; source: string; origin: 'enrollment' | 'cluster' }[]> {
    const { rows } = await this.db.query<{ image_id: string; face_index: number; source: string; origin: 'enrollment' | 'cluster' }>(
      'SELECT image_id, face_index, source, origin FROM enrollment_examples WHERE person_id = $1',
      [personId],
    );
    return rows.map((r) => ({ personId, imageId: r.image_id, faceIndex: r.face_index, source: r.source, origin: r.origin }));
  }

  /** Every hand label naming a person (for an undo). */
  async labelsOf(personId: string): Promise<{ imageId: string; box: number[]; label: { personId: string; by: string | null; notFace: boolean } }[]> {
    const { rows } = await this.db.query<{ image_id: string; box: number[]; labelled_by: string | null }>('SELECT image_id, box, labelled_by FROM face_labels WHERE person_id = $1', [personId]);
    return rows.map((r) => ({ imageId: r.image_id, box: r.box, label: { personId, by: r.labelled_by, notFace: false } }));
  }

  /** Takes back a "not this person". */
  async unrejectSuggestion(imageId: string, faceIndex: number, personId: string): Promise<void> {
    await this.db.query('DELETE FROM suggestion_rejections WHERE image_id = $1 AND face_index = $2 AND person_id = $3', [imageId, faceIndex, personId]);
  }

  /** Sets the hand label of a box, replacing any label of the same box (`notFace`: "this is not a face", with no person). */
  async setLabel(imageId: string, box: readonly number[], personId: string | null, by: string | null, notFace = false): Promise<void> {
    await this.db.query(
      `DELETE FROM face_labels WHERE image_id = $1 AND array_length(box, 1) = 4
         AND abs(box[1] - $2) < 0.5 AND abs(box[2] - $3) < 0.5 AND abs(box[3] - $4) < 0.5 AND abs(box[4] - $5) < 0.5`,
      [imageId, box[0], box[1], box[2], box[3]],
    );
    await this.db.query('INSERT INTO face_labels (image_id, box, person_id, labelled_by, not_face) VALUES ($1, $2, $3, $4, $5)', [imageId, [...box], personId, by, notFace && personId === null]);
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
