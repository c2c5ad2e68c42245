import type { Queryable } from './queryable.js';

export interface ClusterSummary {
  id: string;
  embedVersion: string;
  faces: number;
  /** A few member faces (image, face index, source), nearest the start of the cluster first. */
  samples: { imageId: string; faceIndex: number; source: string }[];
}

/** Where a page of clusters starts: after the cluster of this size and id (the order is size, then id). */
export interface ClusterCursor {
  faces: number;
  id: string;
}

/** The `clusters` table: groups of similar faces nobody has named yet. */
export class ClusterRepository {
  constructor(readonly db: Queryable) {}

  async create(embedVersion: string): Promise<string> {
    const { rows } = await this.db.query<{ id: string }>('INSERT INTO clusters (embed_version) VALUES ($1) RETURNING id', [embedVersion]);
    return rows[0]!.id;
  }

  async assign(faceIds: readonly string[], clusterId: string | null): Promise<void> {
    if (faceIds.length === 0) return;
    await this.db.query('UPDATE faces SET cluster_id = $2 WHERE id = ANY($1::bigint[])', [faceIds, clusterId]);
  }

  /**
   * Makes several clusters one, in the caller's transaction (which holds lockFaceWrites). The
   * surviving id is the cluster with the most faces, ties to the lowest (oldest) id: the id a
   * full re-cluster would keep too (stableClusterIds), so a rebuild after a merge renames
   * nothing. The others' unnamed faces move to it in one statement and the others are removed;
   * a face with a person (named, by hand or enrolled) is never moved. Returns the survivor.
   */
  async merge(clusterIds: readonly string[]): Promise<string> {
    const ids = [...new Set(clusterIds)];
    const { rows: present } = await this.db.query<{ id: string }>('SELECT id FROM clusters WHERE id = ANY($1::bigint[]) ORDER BY id', [ids]);
    if (present.length === 0) throw new Error(`none of clusters ${ids.join(', ')} exists`);
    if (present.length === 1) return present[0]!.id;
    const { rows: sizes } = await this.db.query<{ id: string; n: string }>(
      'SELECT cluster_id AS id, count(*) AS n FROM faces WHERE cluster_id = ANY($1::bigint[]) AND person_id IS NULL AND person_source IS NULL GROUP BY cluster_id',
      [present.map((r) => r.id)],
    );
    const size = new Map(sizes.map((r) => [r.id, Number(r.n)]));
    const [survivor, ...others] = present
      .map((r) => r.id)
      .sort((a, b) => (size.get(b) ?? 0) - (size.get(a) ?? 0) || (BigInt(a) < BigInt(b) ? -1 : 1));
    await this.db.query(
      'UPDATE faces SET cluster_id = $1 WHERE cluster_id = ANY($2::bigint[]) AND person_id IS NULL AND person_source IS NULL',
      [survivor, others],
    );
    await this.db.query('DELETE FROM clusters WHERE id = ANY($1::bigint[])', [others]);
    return survivor!;
  }

  async members(clusterId: string): Promise<{ id: string; imageId: string; faceIndex: number; source: string }[]> {
    const { rows } = await this.db.query<{ id: string; image_id: string; face_index: number; source: string }>(
      'SELECT f.id, f.image_id, f.face_index, i.source FROM faces f JOIN images i ON i.id = f.image_id WHERE f.cluster_id = $1 ORDER BY f.id',
      [clusterId],
    );
    return rows.map((r) => ({ id: r.id, imageId: r.image_id, faceIndex: r.face_index, source: r.source }));
  }

  /** Whether the cluster is set aside by hand; undefined when there is no such cluster. */
  async ignored(clusterId: string): Promise<boolean | undefined> {
    const { rows } = await this.db.query<{ ignored: boolean }>('SELECT ignored FROM clusters WHERE id = $1', [clusterId]);
    return rows[0]?.ignored;
  }

  /** Sets a cluster aside ("ignore": not offered for naming) or back. */
  async setIgnored(clusterId: string, ignored: boolean): Promise<void> {
    await this.db.query('UPDATE clusters SET ignored = $2 WHERE id = $1', [clusterId, ignored]);
  }

  async exists(clusterId: string): Promise<boolean> {
    const { rows } = await this.db.query('SELECT 1 FROM clusters WHERE id = $1', [clusterId]);
    return rows.length > 0;
  }

  /**
   * Clusters with at least one face, largest first (then by id). A page: `limit` of them after
   * `after` (the last of the previous page: its face count and id), all without `limit`.
   */
  async list(sampleSize = 4, page: { limit?: number; after?: ClusterCursor } = {}): Promise<ClusterSummary[]> {
    const after = page.after;
    const { rows } = await this.db.query<{ id: string; embed_version: string; faces: string; samples: { imageId: string; faceIndex: number; source: string }[] }>(
      `SELECT c.id, c.embed_version, count(f.id) AS faces,
              (array_agg(json_build_object('imageId', f.image_id, 'faceIndex', f.face_index, 'source', i.source) ORDER BY f.id))[1:$1] AS samples
       FROM clusters c JOIN faces f ON f.cluster_id = c.id JOIN images i ON i.id = f.image_id
       WHERE NOT c.ignored
       GROUP BY c.id
       HAVING $2::bigint IS NULL OR count(f.id) < $2::bigint OR (count(f.id) = $2::bigint AND c.id > $3::bigint)
       ORDER BY count(f.id) DESC, c.id
       LIMIT $4`,
      [sampleSize, after?.faces ?? null, after?.id ?? null, page.limit ?? null],
    );
    return rows.map((r) => ({ id: r.id, embedVersion: r.embed_version, faces: Number(r.faces), samples: r.samples }));
  }

  /** Removes clusters no face belongs to any more. */
  async deleteEmpty(): Promise<number> {
    const { rowCount } = await this.db.query('DELETE FROM clusters c WHERE NOT EXISTS (SELECT 1 FROM faces f WHERE f.cluster_id = c.id)');
    return rowCount ?? 0;
  }

  /** Every face of an embedding version that clustering may group (no person set), with its cluster. */
  async candidates(embedVersion: string): Promise<{ id: string; clusterId: string | null }[]> {
    const { rows } = await this.db.query<{ id: string; cluster_id: string | null }>(
      'SELECT id, cluster_id FROM faces WHERE embed_version = $1 AND person_id IS NULL AND person_source IS NULL ORDER BY id',
      [embedVersion],
    );
    return rows.map((r) => ({ id: r.id, clusterId: r.cluster_id }));
  }
}
