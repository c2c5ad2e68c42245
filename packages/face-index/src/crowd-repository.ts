import type { PersonCrowd } from './naming/crowd-calibration.js';
import type { Queryable } from './queryable.js';
import { parseVectorLiteral } from './vector-literal.js';

/** A face of the library sample, with the person it is (named, by hand or enrolled) if any. */
export interface SampledFace {
  embedding: number[];
  personId: string | null;
}

/** A person's crowd as counted, with what it was counted on. */
export interface StoredCrowd extends PersonCrowd {
  /** The person's examples when counted (their number and the sum of their face ids). */
  examplesKey: string;
  /** The library's size (its highest face id) when counted. */
  libraryFaces: number;
}

/**
 * The `person_crowds` table (naming/crowd-calibration.ts): per person and embedding version, how
 * many faces of a library sample fall just beyond their name threshold. Counts only; removed with
 * the person, and all of them whenever an image is erased (recounted when next needed).
 */
export class CrowdRepository {
  constructor(readonly db: Queryable) {}

  async ofVersion(embedVersion: string, personIds: readonly string[]): Promise<Map<string, StoredCrowd>> {
    if (personIds.length === 0) return new Map();
    const { rows } = await this.db.query<{ person_id: string; examples_key: string; library_faces: string; sampled: number; in_band: number }>(
      'SELECT person_id, examples_key, library_faces, sampled, in_band FROM person_crowds WHERE embed_version = $1 AND person_id = ANY($2::bigint[])',
      [embedVersion, [...new Set(personIds)]],
    );
    return new Map(rows.map((r) => [r.person_id, { examplesKey: r.examples_key, libraryFaces: Number(r.library_faces), sampled: r.sampled, inBand: r.in_band }]));
  }

  async save(personId: string, embedVersion: string, crowd: StoredCrowd): Promise<void> {
    await this.db.query(
      `INSERT INTO person_crowds (person_id, embed_version, examples_key, library_faces, sampled, in_band) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (person_id, embed_version) DO UPDATE SET examples_key = EXCLUDED.examples_key, library_faces = EXCLUDED.library_faces,
         sampled = EXCLUDED.sampled, in_band = EXCLUDED.in_band, counted_at = now()`,
      [personId, embedVersion, crowd.examplesKey, crowd.libraryFaces, crowd.sampled, crowd.inBand],
    );
  }

  /** The library's size as the counts measure it: its highest face id (faces are never renumbered). */
  async librarySize(): Promise<number> {
    const { rows } = await this.db.query<{ n: string | null }>('SELECT max(id) AS n FROM faces');
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * About `size` faces of an embedding version spread evenly over the library: the faces at ids
   * along a golden-ratio sequence (the same ids for the same library size; ids of removed faces or
   * of other versions are simply missing), or every face when the library is not much larger.
   */
  async sample(embedVersion: string, size: number, librarySize: number): Promise<SampledFace[]> {
    if (librarySize <= size * 1.25) {
      const { rows } = await this.db.query<{ embedding: string; person_id: string | null }>('SELECT embedding::text AS embedding, person_id FROM faces WHERE embed_version = $1', [embedVersion]);
      return rows.map((r) => ({ embedding: parseVectorLiteral(r.embedding), personId: r.person_id }));
    }
    const ids = new Set<number>();
    for (let i = 0; i < size; i += 1) ids.add(1 + Math.floor((((i + 1) * GOLDEN) % 1) * librarySize));
    const { rows } = await this.db.query<{ embedding: string; person_id: string | null }>(
      'SELECT embedding::text AS embedding, person_id FROM faces WHERE id = ANY($1::bigint[]) AND embed_version = $2',
      [[...ids], embedVersion],
    );
    return rows.map((r) => ({ embedding: parseVectorLiteral(r.embedding), personId: r.person_id }));
  }
}

const GOLDEN = (Math.sqrt(5) - 1) / 2;
