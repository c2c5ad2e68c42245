import type { Queryable } from './queryable.js';

/** A face of the index as erasure sees it: which image, which face, where. */
export interface ErasableFace {
  id: string;
  imageId: string;
  faceIndex: number;
  embedVersion: string;
  box: number[];
}

/** Rows removed by one erasure step, table by table. */
export interface ErasedRows {
  images: number;
  faces: number;
  examples: number;
  labels: number;
  people: number;
  clusters: number;
}

export const noRows = (): ErasedRows => ({ images: 0, faces: 0, examples: 0, labels: 0, people: 0, clusters: 0 });

/**
 * The deletes erasure needs (GDPR art. 17): every row that holds or points at an image's or a
 * person's faces. Run in {@link FaceIndex.writeTransaction}, so no classify write or clustering
 * step sees half of it.
 */
export class ErasureRepository {
  constructor(readonly db: Queryable) {}

  /** The faces of a person, every embedding version. */
  async facesOfPerson(personId: string): Promise<ErasableFace[]> {
    const { rows } = await this.db.query<{ id: string; image_id: string; face_index: number; embed_version: string; box: number[] }>(
      'SELECT id, image_id, face_index, embed_version, box FROM faces WHERE person_id = $1 ORDER BY image_id, face_index',
      [personId],
    );
    return rows.map((r) => ({ id: r.id, imageId: r.image_id, faceIndex: r.face_index, embedVersion: r.embed_version, box: r.box }));
  }

  /** Of these images, those in which every face (of every version) is this person's. */
  async imagesOnlyOf(personId: string, imageIds: readonly string[]): Promise<Set<string>> {
    if (imageIds.length === 0) return new Set();
    const { rows } = await this.db.query<{ image_id: string }>(
      `SELECT image_id FROM faces WHERE image_id = ANY($1::text[]) GROUP BY image_id
       HAVING bool_and(person_id IS NOT DISTINCT FROM $2::bigint)`,
      [imageIds, personId],
    );
    return new Set(rows.map((r) => r.image_id));
  }

  /** Image ids of the person's examples and hand labels (they may name faces the person no longer has). */
  async imagesReferencingPerson(personId: string): Promise<string[]> {
    const { rows } = await this.db.query<{ image_id: string }>(
      'SELECT image_id FROM enrollment_examples WHERE person_id = $1 UNION SELECT image_id FROM face_labels WHERE person_id = $1',
      [personId],
    );
    return rows.map((r) => r.image_id);
  }

  /** Removes an image's row, faces, examples and hand labels, then clusters left empty. */
  async eraseImage(imageId: string): Promise<ErasedRows> {
    const out = noRows();
    out.examples = (await this.db.query('DELETE FROM enrollment_examples WHERE image_id = $1', [imageId])).rowCount ?? 0;
    out.labels = (await this.db.query('DELETE FROM face_labels WHERE image_id = $1', [imageId])).rowCount ?? 0;
    out.faces = (await this.db.query('DELETE FROM faces WHERE image_id = $1', [imageId])).rowCount ?? 0;
    out.images = (await this.db.query('DELETE FROM images WHERE id = $1', [imageId])).rowCount ?? 0;
    // The audit log says which image a face of a person was on: that goes with the image.
    await this.db.query('DELETE FROM people_audit WHERE $1::text = ANY(image_ids)', [imageId]);
    await this.#forgetCrowds();
    out.clusters = await this.#deleteEmptyClusters();
    return out;
  }

  /**
   * Removes some faces of images that stay (and the examples and hand labels of those faces),
   * lowering each image's face count; clusters left empty go.
   */
  async eraseFaces(faces: readonly ErasableFace[]): Promise<ErasedRows> {
    const out = noRows();
    if (faces.length === 0) return out;
    const imageIds = faces.map((f) => f.imageId);
    const indexes = faces.map((f) => f.faceIndex);
    out.examples =
      (await this.db.query('DELETE FROM enrollment_examples e USING unnest($1::text[], $2::int[]) AS x(image_id, face_index) WHERE e.image_id = x.image_id AND e.face_index = x.face_index', [imageIds, indexes]))
        .rowCount ?? 0;
    for (const f of faces) {
      out.labels +=
        (
          await this.db.query(
            `DELETE FROM face_labels WHERE image_id = $1 AND abs(box[1] - $2) < 0.5 AND abs(box[2] - $3) < 0.5 AND abs(box[3] - $4) < 0.5 AND abs(box[4] - $5) < 0.5`,
            [f.imageId, f.box[0], f.box[1], f.box[2], f.box[3]],
          )
        ).rowCount ?? 0;
    }
    out.faces = (await this.db.query('DELETE FROM faces WHERE id = ANY($1::bigint[])', [faces.map((f) => f.id)])).rowCount ?? 0;
    await this.db.query('DELETE FROM people_audit WHERE image_ids && $1::text[]', [[...new Set(imageIds)]]);
    await this.#forgetCrowds();
    await this.db.query(
      `UPDATE images i SET face_count = (SELECT count(DISTINCT f.face_index) FROM faces f WHERE f.image_id = i.id AND f.embed_version IS NOT DISTINCT FROM i.embed_version)
       WHERE i.id = ANY($1::text[])`,
      [[...new Set(imageIds)]],
    );
    out.clusters = await this.#deleteEmptyClusters();
    return out;
  }

  /** Removes a person with every example and hand label naming them (their faces must be gone or moved first). */
  async erasePerson(personId: string): Promise<ErasedRows> {
    const out = noRows();
    out.examples = (await this.db.query('DELETE FROM enrollment_examples WHERE person_id = $1', [personId])).rowCount ?? 0;
    out.labels = (await this.db.query('DELETE FROM face_labels WHERE person_id = $1', [personId])).rowCount ?? 0;
    await this.db.query('UPDATE faces SET person_id = NULL, person_source = NULL, match_distance = NULL WHERE person_id = $1', [personId]);
    out.people = (await this.db.query('DELETE FROM people WHERE id = $1', [personId])).rowCount ?? 0;
    // Names and what was done to them by hand: gone with the person.
    await this.db.query('DELETE FROM people_audit WHERE $1::bigint = ANY(person_ids)', [personId]);
    return out;
  }

  /**
   * Images processed before `before` in which no face has a person, a hand label or an example:
   * photos of strangers nobody confirmed (the retention rule), in id order after `afterId`.
   */
  async strangerImagesBefore(before: Date, afterId: string, limit: number): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(
      `SELECT i.id FROM images i
       WHERE i.id > $1 AND i.processed_at < $2 AND i.status = 'done' AND i.face_count > 0
         AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.image_id = i.id AND (f.person_id IS NOT NULL OR f.person_source IS NOT NULL))
         AND NOT EXISTS (SELECT 1 FROM face_labels l WHERE l.image_id = i.id)
         AND NOT EXISTS (SELECT 1 FROM enrollment_examples e WHERE e.image_id = i.id)
       ORDER BY i.id LIMIT $3`,
      [afterId, before, limit],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Reclaims the space of deleted rows, so erased embeddings do not linger in dead tuples and
   * index pages until some later vacuum. Outside any transaction.
   */
  async vacuum(): Promise<void> {
    await this.db.query('VACUUM images, faces, enrollment_examples, face_labels, people, clusters, people_audit, person_crowds');
  }

  /** The naming rule's crowd counts were taken over the library's faces: none may rest on erased ones (counted again when next needed). */
  async #forgetCrowds(): Promise<void> {
    await this.db.query('DELETE FROM person_crowds');
  }

  async #deleteEmptyClusters(): Promise<number> {
    const { rowCount } = await this.db.query('DELETE FROM clusters c WHERE NOT EXISTS (SELECT 1 FROM faces f WHERE f.cluster_id = c.id)');
    return rowCount ?? 0;
  }
}
