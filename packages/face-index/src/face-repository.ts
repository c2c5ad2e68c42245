import type { Queryable } from './queryable.js';
import { parseVectorLiteral, toVectorLiteral } from './vector-literal.js';

/** How a face got its person: the classifier, a person's hand, or enrollment (incl. naming its cluster). */
export type PersonSource = 'auto' | 'hand' | 'enrolled';

/** A face as the classify stage writes it. */
export interface FaceToIndex {
  faceIndex: number;
  box: readonly number[];
  score: number;
  quality: number | null;
  embedding: ArrayLike<number>;
  personId: string | null;
  /** Null with no person, except `hand` with no person = "this is nobody I know" set by hand. */
  personSource: PersonSource | null;
  matchDistance: number | null;
  /** Whether the face passed the quality gate (clustered and named automatically only then). @defaultValue true */
  qualityOk?: boolean;
  /** "Probably this person": shown for confirmation, never a name. */
  suggestion?: { personId: string; distance: number } | null;
}

/** One image's faces to write (replaceImagesFaces). */
export interface ImageFaces {
  imageId: string;
  embedVersion: string;
  embeddingModel: string;
  faces: readonly FaceToIndex[];
}

/** A face row as written: its id, whether it is new, and its cluster after the write. */
export interface WrittenFace {
  id: string;
  inserted: boolean;
  clusterId: string | null;
  /** The embedding as stored (single precision), as a clustering step reads it back. */
  embedding: number[];
}

/** What the library says about one face now. */
export interface FaceState {
  id: string;
  imageId: string;
  faceIndex: number;
  personId: string | null;
  name: string | null;
  personSource: PersonSource | null;
  clusterId: string | null;
  matchDistance: number | null;
  /** Passed the quality gate. */
  qualityOk: boolean;
  /** A suggestion waiting for confirmation. */
  suggestion: { personId: string; name: string; distance: number } | null;
}

/** One nearest-neighbour hit. */
export interface FaceHit extends FaceState {
  distance: number;
  source: string;
  embedVersion: string;
  /** The face's `quality`: 0 flagged small, blurred or cut by the border; 1 not; null unknown (rows of earlier versions). */
  quality: number | null;
  /** Only with `withEmbedding`. */
  embedding?: number[];
}

/** A face with a suggestion, for review. */
export interface SuggestedFace {
  id: string;
  imageId: string;
  faceIndex: number;
  source: string;
  box: number[];
  name: string;
  distance: number;
}

/** A face's person, suggestion and cluster as they were: what an undo puts back. */
export interface FacePrior {
  id: string;
  personId: string | null;
  source: PersonSource | null;
  distance: number | null;
  suggestedPersonId: string | null;
  suggestedDistance: number | null;
  clusterId: string | null;
}

/** A face as a person's or cluster's page lists it. */
export type ListedFace = FaceState & { source: string; box: number[] };

/** Where a page of a person's faces by confidence starts: after this rank, distance and face id. */
export interface ConfidenceCursor {
  /** 0: enrolled or named by hand; 1: automatic. */
  rank: number;
  distance: number;
  id: string;
}

/** Neighbour search settings (pgvector HNSW). */
export interface NeighbourQuery {
  embedVersion: string;
  limit: number;
  /** Only hits at most this far. */
  maxDistance?: number;
  /** Only faces nobody is set on (candidates for clustering). */
  unnamedOnly?: boolean;
  /** Only faces without a person set by hand or by enrollment (what automatic naming may change). */
  autoOnly?: boolean;
  /** Only faces clustering may group: nobody's, passing the quality gate. */
  clusterable?: boolean;
  /** Only faces with an id below this one (a rebuild replays arrival order). */
  beforeFaceId?: string;
  /** Return each hit's embedding too. */
  withEmbedding?: boolean;
  excludeFaceId?: string;
}

const stateColumns = `f.id, f.image_id, f.face_index, f.person_id, p.name, f.person_source, f.cluster_id, f.match_distance, f.quality_ok,
  f.suggested_person_id, f.suggested_distance, (SELECT sp.name FROM people sp WHERE sp.id = f.suggested_person_id) AS suggested_name`;

interface StateRow {
  id: string;
  image_id: string;
  face_index: number;
  person_id: string | null;
  name: string | null;
  person_source: PersonSource | null;
  cluster_id: string | null;
  match_distance: number | null;
  quality_ok: boolean;
  suggested_person_id: string | null;
  suggested_distance: number | null;
  suggested_name: string | null;
}

function stateFromRow(r: StateRow): FaceState {
  return {
    id: r.id,
    imageId: r.image_id,
    faceIndex: r.face_index,
    personId: r.person_id,
    name: r.name,
    personSource: r.person_source,
    clusterId: r.cluster_id,
    matchDistance: r.match_distance,
    qualityOk: r.quality_ok,
    suggestion: r.suggested_person_id !== null && r.suggested_name !== null ? { personId: r.suggested_person_id, name: r.suggested_name, distance: r.suggested_distance ?? 0 } : null,
  };
}

/**
 * The `faces` table. Nearest-neighbour queries go through the HNSW index (approximate, with
 * pgvector's iterative scan so filters do not starve the result); call them inside a transaction
 * so their `SET LOCAL` search settings apply (FaceIndex.transaction).
 */
export class FaceRepository {
  constructor(readonly db: Queryable) {}

  /**
   * Makes the index hold exactly these faces for the image, under `embedVersion`: rows are keyed
   * by (image, face index, embedding version), so writing the same result twice changes nothing;
   * faces of other embedding versions or beyond the face count go. A face's cluster is kept while
   * it stays without a person (a face set to nobody by hand leaves its cluster: never re-clustered). Returns the face ids in input order, and which rows are new.
   */
  async replaceImageFaces(imageId: string, embedVersion: string, embeddingModel: string, faces: readonly FaceToIndex[]): Promise<{ id: string; inserted: boolean }[]> {
    const [written] = await this.replaceImagesFaces([{ imageId, embedVersion, embeddingModel, faces }]);
    return written!.map(({ id, inserted }) => ({ id, inserted }));
  }

  /**
   * {@link FaceRepository.replaceImageFaces} for several images in two statements (one DELETE, one
   * multi-row upsert), faces numbered in input order (arrival order, as clustering replays it).
   * The image ids must differ (one upsert cannot touch a row twice). Returns, per image and in
   * input order, each face's id, whether its row is new, and its cluster after the write.
   */
  async replaceImagesFaces(images: readonly ImageFaces[]): Promise<WrittenFace[][]> {
    if (new Set(images.map((i) => i.imageId)).size !== images.length) throw new Error('replaceImagesFaces: an image appears twice');
    if (images.length === 0) return [];
    const kept = images.flatMap((i) => i.faces.map((f) => ({ imageId: i.imageId, embedVersion: i.embedVersion, faceIndex: f.faceIndex })));
    await this.db.query(
      `DELETE FROM faces f WHERE f.image_id = ANY($1::text[])
         AND NOT EXISTS (SELECT 1 FROM unnest($2::text[], $3::text[], $4::int[]) AS k(image_id, embed_version, face_index)
                         WHERE k.image_id = f.image_id AND k.embed_version = f.embed_version AND k.face_index = f.face_index)`,
      [images.map((i) => i.imageId), kept.map((k) => k.imageId), kept.map((k) => k.embedVersion), kept.map((k) => k.faceIndex)],
    );
    const rows = images.flatMap((i) => i.faces.map((f) => ({ image: i, f })));
    if (rows.length === 0) return images.map(() => []);
    const col = <T>(pick: (r: (typeof rows)[number]) => T) => rows.map(pick);
    const { rows: out } = await this.db.query<{ id: string; inserted: boolean; cluster_id: string | null; image_id: string; face_index: number; embedding_text: string }>(
      `INSERT INTO faces (image_id, face_index, embed_version, embedding_model, box, score, quality, embedding, person_id, person_source, match_distance,
                          quality_ok, suggested_person_id, suggested_distance)
       SELECT image_id, face_index, embed_version, embedding_model, box::real[], score, quality, embedding::vector, person_id, person_source, match_distance,
              quality_ok, suggested_person_id, suggested_distance
       FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::real[], $7::real[], $8::text[], $9::bigint[], $10::text[], $11::real[],
                   $12::boolean[], $13::bigint[], $14::real[])
            WITH ORDINALITY AS t(image_id, face_index, embed_version, embedding_model, box, score, quality, embedding, person_id, person_source, match_distance,
                                 quality_ok, suggested_person_id, suggested_distance, ord)
       ORDER BY ord
       ON CONFLICT (image_id, face_index, embed_version) DO UPDATE SET
         embedding_model = EXCLUDED.embedding_model, box = EXCLUDED.box, score = EXCLUDED.score, quality = EXCLUDED.quality,
         embedding = EXCLUDED.embedding, person_id = EXCLUDED.person_id, person_source = EXCLUDED.person_source,
         match_distance = EXCLUDED.match_distance, quality_ok = EXCLUDED.quality_ok,
         suggested_person_id = EXCLUDED.suggested_person_id, suggested_distance = EXCLUDED.suggested_distance,
         cluster_id = CASE WHEN EXCLUDED.person_id IS NULL AND EXCLUDED.person_source IS NULL AND EXCLUDED.quality_ok THEN faces.cluster_id ELSE NULL END
       RETURNING id, (xmax = 0) AS inserted, cluster_id, image_id, face_index, embedding::text AS embedding_text`,
      [
        col((r) => r.image.imageId), col((r) => r.f.faceIndex), col((r) => r.image.embedVersion), col((r) => r.image.embeddingModel),
        col((r) => `{${[...r.f.box].join(',')}}`), col((r) => r.f.score), col((r) => r.f.quality), col((r) => toVectorLiteral(r.f.embedding)),
        col((r) => r.f.personId), col((r) => r.f.personSource), col((r) => r.f.matchDistance), col((r) => r.f.qualityOk ?? true),
        col((r) => r.f.suggestion?.personId ?? null), col((r) => r.f.suggestion?.distance ?? null),
      ],
    );
    const byKey = new Map(out.map((r) => [`${r.image_id}\u0000${r.face_index}`, { id: r.id, inserted: r.inserted, clusterId: r.cluster_id, embedding: parseVectorLiteral(r.embedding_text) }]));
    return images.map((i) => i.faces.map((f) => byKey.get(`${i.imageId}\u0000${f.faceIndex}`)!));
  }

  /** The faces of some images, by image id then face index. */
  async statesOfImages(imageIds: readonly string[]): Promise<Map<string, FaceState[]>> {
    const out = new Map<string, FaceState[]>();
    if (imageIds.length === 0) return out;
    const { rows } = await this.db.query<StateRow>(
      `SELECT ${stateColumns} FROM faces f LEFT JOIN people p ON p.id = f.person_id WHERE f.image_id = ANY($1::text[]) ORDER BY f.image_id, f.face_index`,
      [imageIds],
    );
    for (const r of rows) out.set(r.image_id, [...(out.get(r.image_id) ?? []), stateFromRow(r)]);
    return out;
  }

  async state(faceId: string): Promise<FaceState | undefined> {
    const { rows } = await this.db.query<StateRow>(`SELECT ${stateColumns} FROM faces f LEFT JOIN people p ON p.id = f.person_id WHERE f.id = $1`, [faceId]);
    return rows[0] ? stateFromRow(rows[0]) : undefined;
  }

  async embedding(faceId: string): Promise<{ embedding: number[]; embedVersion: string } | undefined> {
    const { rows } = await this.db.query<{ embedding: string; embed_version: string }>(`SELECT embedding::text AS embedding, embed_version FROM faces WHERE id = $1`, [faceId]);
    return rows[0] ? { embedding: parseVectorLiteral(rows[0].embedding), embedVersion: rows[0].embed_version } : undefined;
  }

  /** The nearest faces to `embedding` (approximate: HNSW), nearest first. */
  async nearest(embedding: ArrayLike<number>, q: NeighbourQuery): Promise<FaceHit[]> {
    await this.#searchSettings(q.limit);
    const values: unknown[] = [toVectorLiteral(embedding), q.embedVersion, q.limit];
    const filters = ['f.embed_version = $2'];
    if (q.unnamedOnly) filters.push(`f.person_id IS NULL AND f.person_source IS NULL`);
    if (q.autoOnly) filters.push(`(f.person_source IS NULL OR f.person_source = 'auto')`);
    if (q.clusterable) filters.push(`f.person_id IS NULL AND f.person_source IS NULL AND f.quality_ok`);
    if (q.beforeFaceId !== undefined) {
      values.push(q.beforeFaceId);
      filters.push(`f.id < $${values.length}::bigint`);
    }
    if (q.excludeFaceId !== undefined) {
      values.push(q.excludeFaceId);
      filters.push(`f.id <> $${values.length}`);
    }
    const { rows } = await this.db.query<StateRow & { distance: number; source: string; embed_version: string; quality: number | null; embedding_text?: string }>(
      `SELECT * FROM (
         SELECT ${stateColumns}, i.source, f.embed_version, f.quality, f.embedding <-> $1::vector AS distance${q.withEmbedding ? ', f.embedding::text AS embedding_text' : ''}
         FROM faces f JOIN images i ON i.id = f.image_id LEFT JOIN people p ON p.id = f.person_id
         WHERE ${filters.join(' AND ')}
         ORDER BY f.embedding <-> $1::vector LIMIT $3) hits
       ORDER BY distance`,
      values,
    );
    return rows
      .filter((r) => q.maxDistance === undefined || r.distance <= q.maxDistance)
      .map((r) => ({ ...stateFromRow(r), distance: r.distance, source: r.source, embedVersion: r.embed_version, quality: r.quality, ...(r.embedding_text ? { embedding: parseVectorLiteral(r.embedding_text) } : {}) }));
  }

  /** The `limit` reference faces (enrolled or named by hand) nearest to `embedding`, nearest first, without the people in `except`. */
  async nearestReferences(embedding: ArrayLike<number>, embedVersion: string, limit: number, except: readonly string[] = []): Promise<{ personId: string; name: string; distance: number }[]> {
    await this.#searchSettings(limit);
    const { rows } = await this.db.query<{ person_id: string; name: string; distance: number }>(
      `SELECT * FROM (
         SELECT f.person_id, p.name, f.embedding <-> $1::vector AS distance
         FROM faces f JOIN people p ON p.id = f.person_id
         WHERE f.person_source IN ('enrolled', 'hand') AND f.person_id IS NOT NULL AND f.embed_version = $2 AND NOT (f.person_id = ANY($4::bigint[]))
         ORDER BY f.embedding <-> $1::vector LIMIT $3) hits
       ORDER BY distance`,
      [toVectorLiteral(embedding), embedVersion, limit, except],
    );
    return rows.map((r) => ({ personId: r.person_id, name: r.name, distance: r.distance }));
  }

  /**
   * {@link FaceRepository.nearestReferences} for several faces in one statement (a micro-batch's
   * naming): per probe in input order, its `limit` nearest reference faces without the people in
   * its `except`, nearest first.
   */
  async nearestReferencesOfMany(probes: readonly { embedding: ArrayLike<number>; except: readonly string[] }[], embedVersion: string, limit: number): Promise<{ personId: string; name: string; distance: number }[][]> {
    if (probes.length === 0) return [];
    await this.#searchSettings(limit);
    const { rows } = await this.db.query<{ ord: string; person_id: string; name: string; distance: number }>(
      `SELECT q.ord, h.person_id, h.name, h.distance
       FROM (SELECT u.v, u.ex::bigint[] AS ex, u.ord FROM unnest($1::vector[], $2::text[]) WITH ORDINALITY AS u(v, ex, ord)) q
       CROSS JOIN LATERAL (
         SELECT f.person_id, p.name, f.embedding <-> q.v AS distance
         FROM faces f JOIN people p ON p.id = f.person_id
         WHERE f.person_source IN ('enrolled', 'hand') AND f.person_id IS NOT NULL AND f.embed_version = $3 AND NOT (f.person_id = ANY(q.ex))
         ORDER BY f.embedding <-> q.v LIMIT $4) h
       ORDER BY q.ord, h.distance`,
      [probes.map((p) => toVectorLiteral(p.embedding)), probes.map((p) => `{${p.except.join(',')}}`), embedVersion, limit],
    );
    const out = probes.map(() => [] as { personId: string; name: string; distance: number }[]);
    for (const r of rows) out[Number(r.ord) - 1]!.push({ personId: r.person_id, name: r.name, distance: r.distance });
    return out;
  }

  /**
   * The clusterable neighbours (nobody's, passing the quality gate) of several faces in one
   * statement, for clustering a micro-batch: per probe face id, its `limit` nearest other faces
   * but those in its `except`, nearest first, with embedding and cluster, of those at most
   * `maxDistance` away (only those are sent back). Each probe's scan is the one
   * {@link FaceRepository.nearest} makes with `clusterable`.
   */
  async clusterableNeighboursOfMany(
    probes: readonly { id: string; embedding: ArrayLike<number>; except: readonly string[] }[],
    q: { embedVersion: string; limit: number; maxDistance: number },
  ): Promise<Map<string, { id: string; imageId: string; clusterId: string | null; embedding: number[]; distance: number }[]>> {
    const { embedVersion, limit, maxDistance } = q;
    const out = new Map(probes.map((p) => [p.id, [] as { id: string; imageId: string; clusterId: string | null; embedding: number[]; distance: number }[]]));
    if (probes.length === 0) return out;
    await this.#searchSettings(limit);
    // The probes arrive as vector[]: a text cast inside the lateral query was evaluated for every
    // distance the HNSW scan computed (about 100× slower per probe on PGlite, 10× on PostgreSQL).
    const { rows } = await this.db.query<{ probe_id: string; id: string; image_id: string; cluster_id: string | null; embedding_text: string; distance: number }>(
      `SELECT q.probe_id, h.id, h.image_id, h.cluster_id, h.embedding::text AS embedding_text, h.distance
       FROM (SELECT u.v, u.probe_id, u.ex::bigint[] AS ex FROM unnest($1::vector[], $2::bigint[], $3::text[]) AS u(v, probe_id, ex)) q
       CROSS JOIN LATERAL (
         SELECT f.id, f.image_id, f.cluster_id, f.embedding, f.embedding <-> q.v AS distance
         FROM faces f
         WHERE f.embed_version = $4 AND f.person_id IS NULL AND f.person_source IS NULL AND f.quality_ok AND f.id <> q.probe_id AND NOT (f.id = ANY(q.ex))
         ORDER BY f.embedding <-> q.v LIMIT $5) h
       WHERE h.distance <= $6
       ORDER BY q.probe_id, h.distance`,
      [probes.map((p) => toVectorLiteral(p.embedding)), probes.map((p) => p.id), probes.map((p) => `{${p.except.join(',')}}`), embedVersion, limit, maxDistance],
    );
    for (const r of rows) out.get(r.probe_id)!.push({ id: r.id, imageId: r.image_id, clusterId: r.cluster_id, embedding: parseVectorLiteral(r.embedding_text), distance: r.distance });
    return out;
  }

  /** {@link FaceRepository.clusterMembers} of several clusters in one statement. */
  async clusterMembersOfMany(clusterIds: readonly string[]): Promise<Map<string, { id: string; imageId: string; embedding: number[] }[]>> {
    const out = new Map(clusterIds.map((id) => [id, [] as { id: string; imageId: string; embedding: number[] }[]]));
    if (clusterIds.length === 0) return out;
    const { rows } = await this.db.query<{ id: string; image_id: string; cluster_id: string; embedding: string }>(
      `SELECT id, image_id, cluster_id, embedding::text AS embedding FROM faces WHERE cluster_id = ANY($1::bigint[]) AND person_id IS NULL AND person_source IS NULL ORDER BY id`,
      [clusterIds],
    );
    for (const r of rows) out.get(r.cluster_id)?.push({ id: r.id, imageId: r.image_id, embedding: parseVectorLiteral(r.embedding) });
    return out;
  }

  /** Of these images, those with a reference face (enrolled or named by hand) in the index. */
  async imagesWithReferences(imageIds: readonly string[]): Promise<Set<string>> {
    if (imageIds.length === 0) return new Set();
    const { rows } = await this.db.query<{ image_id: string }>(
      `SELECT DISTINCT image_id FROM faces WHERE image_id = ANY($1::text[]) AND person_source IN ('enrolled', 'hand')`,
      [imageIds],
    );
    return new Set(rows.map((r) => r.image_id));
  }

  /** Reference faces (enrolled or named by hand) per person, for one embedding version: the gallery the naming rule weighs. */
  /**
   * Per person, their example faces (enrolled or named by hand) of an embedding version: how many,
   * and a key that changes whenever the set does (their number and the sum of their ids).
   */
  async examplesByPerson(embedVersion: string): Promise<Map<string, { count: number; key: string }>> {
    const { rows } = await this.db.query<{ person_id: string; n: string; ids: string }>(
      `SELECT person_id, count(*) AS n, sum(id) AS ids FROM faces WHERE person_source IN ('enrolled', 'hand') AND person_id IS NOT NULL AND embed_version = $1 GROUP BY person_id`,
      [embedVersion],
    );
    return new Map(rows.map((r) => [r.person_id, { count: Number(r.n), key: `${r.n}:${r.ids}` }]));
  }

  /** Sets or clears a face's suggestion. */
  async setSuggestion(faceId: string, suggestion: { personId: string; distance: number } | null): Promise<void> {
    await this.db.query('UPDATE faces SET suggested_person_id = $2, suggested_distance = $3 WHERE id = $1', [faceId, suggestion?.personId ?? null, suggestion?.distance ?? null]);
  }

  /** Faces with a suggestion, a page at a time by face id. */
  async suggested(afterId: string | null, limit: number): Promise<SuggestedFace[]> {
    const { rows } = await this.db.query<{ id: string; image_id: string; face_index: number; source: string; box: number[]; name: string; suggested_distance: number }>(
      `SELECT f.id, f.image_id, f.face_index, i.source, f.box, p.name, f.suggested_distance
       FROM faces f JOIN images i ON i.id = f.image_id JOIN people p ON p.id = f.suggested_person_id
       WHERE f.suggested_person_id IS NOT NULL AND f.person_id IS NULL AND f.id > $1 ORDER BY f.id LIMIT $2`,
      [afterId ?? '0', limit],
    );
    return rows.map((r) => ({ id: r.id, imageId: r.image_id, faceIndex: r.face_index, source: r.source, box: r.box, name: r.name, distance: r.suggested_distance }));
  }

  /** Faces of a cluster that clustering sees (nobody's, passing the gate), with embeddings. */
  async clusterMembers(clusterId: string): Promise<{ id: string; imageId: string; embedding: number[] }[]> {
    const { rows } = await this.db.query<{ id: string; image_id: string; embedding: string }>(
      `SELECT id, image_id, embedding::text AS embedding FROM faces WHERE cluster_id = $1 AND person_id IS NULL AND person_source IS NULL ORDER BY id`,
      [clusterId],
    );
    return rows.map((r) => ({ id: r.id, imageId: r.image_id, embedding: parseVectorLiteral(r.embedding) }));
  }

  /** The nearest face that names others (enrolled or named by hand, with a person), within `tolerance`. */
  async nearestReference(embedding: ArrayLike<number>, embedVersion: string, tolerance: number): Promise<{ personId: string; name: string; distance: number } | undefined> {
    await this.#searchSettings(1);
    const { rows } = await this.db.query<{ person_id: string; name: string; distance: number }>(
      `SELECT f.person_id, p.name, f.embedding <-> $1::vector AS distance
       FROM faces f JOIN people p ON p.id = f.person_id
       WHERE f.person_source IN ('enrolled', 'hand') AND f.person_id IS NOT NULL AND f.embed_version = $2
       ORDER BY f.embedding <-> $1::vector LIMIT 1`,
      [toVectorLiteral(embedding), embedVersion],
    );
    const r = rows[0];
    return r && r.distance <= tolerance ? { personId: r.person_id, name: r.name, distance: r.distance } : undefined;
  }

  /** The reference faces (enrolled or by hand) of one person. */
  async referenceFaces(personId: string): Promise<{ id: string; embedding: number[]; embedVersion: string }[]> {
    const { rows } = await this.db.query<{ id: string; embedding: string; embed_version: string }>(
      `SELECT id, embedding::text AS embedding, embed_version FROM faces WHERE person_id = $1 AND person_source IN ('enrolled', 'hand')`,
      [personId],
    );
    return rows.map((r) => ({ id: r.id, embedding: parseVectorLiteral(r.embedding), embedVersion: r.embed_version }));
  }

  /** Sets the faces' person; a face given a person, or set to nobody by hand, leaves its cluster. */
  async setPerson(faceIds: readonly string[], personId: string | null, source: PersonSource | null, matchDistance: number | null = null): Promise<void> {
    if (faceIds.length === 0) return;
    await this.db.query(
      `UPDATE faces SET person_id = $2, person_source = $3, match_distance = $4, cluster_id = CASE WHEN $2::bigint IS NULL AND $3::text IS NULL THEN cluster_id ELSE NULL END,
         suggested_person_id = CASE WHEN $2::bigint IS NULL AND $3::text IS NULL THEN suggested_person_id ELSE NULL END,
         suggested_distance = CASE WHEN $2::bigint IS NULL AND $3::text IS NULL THEN suggested_distance ELSE NULL END
       WHERE id = ANY($1::bigint[])`,
      [faceIds, personId, source, matchDistance],
    );
  }

  /** Faces of an image found by box overlap with a labelled box (for `facepipe label` by box). */
  async byImageAndIndex(imageId: string, faceIndex: number): Promise<(FaceState & { box: number[] }) | undefined> {
    const { rows } = await this.db.query<StateRow & { box: number[] }>(
      `SELECT ${stateColumns}, f.box FROM faces f LEFT JOIN people p ON p.id = f.person_id WHERE f.image_id = $1 AND f.face_index = $2 ORDER BY f.id DESC LIMIT 1`,
      [imageId, faceIndex],
    );
    return rows[0] ? { ...stateFromRow(rows[0]), box: rows[0].box } : undefined;
  }

  /** Faces of a person, paged by face id. */
  async ofPerson(personId: string, afterId: string | null, limit: number): Promise<ListedFace[]> {
    return this.#listed(
      `WHERE f.person_id = $1 AND f.id > $2 ORDER BY f.id LIMIT $3`,
      [personId, afterId ?? '0', limit],
    );
  }

  /**
   * Faces of a person by confidence: enrolled and named by hand first, then automatic matches
   * nearest first (the weakest last), ties by face id; a page after `after`.
   */
  async ofPersonByConfidence(personId: string, after: ConfidenceCursor | null, limit: number): Promise<ListedFace[]> {
    const rank = `(CASE WHEN f.person_source IN ('enrolled', 'hand') THEN 0 ELSE 1 END)`;
    const distance = `coalesce(f.match_distance, 0)`;
    return this.#listed(
      `WHERE f.person_id = $1 AND ($2::int IS NULL OR (${rank}, ${distance}, f.id) > ($2::int, $3::real, $4::bigint))
        ORDER BY ${rank}, ${distance}, f.id LIMIT $5`,
      [personId, after?.rank ?? null, after?.distance ?? null, after?.id ?? null, limit],
    );
  }

  /** Every face of a cluster (whatever clustering sees), paged by face id. */
  async ofCluster(clusterId: string, afterId: string | null, limit: number): Promise<ListedFace[]> {
    return this.#listed(
      `WHERE f.cluster_id = $1 AND f.id > $2 ORDER BY f.id LIMIT $3`,
      [clusterId, afterId ?? '0', limit],
    );
  }

  /** These faces, listed (missing ids are left out), by id. */
  async listedByIds(faceIds: readonly string[]): Promise<ListedFace[]> {
    if (faceIds.length === 0) return [];
    return this.#listed('WHERE f.id = ANY($1::bigint[]) ORDER BY f.id', [faceIds]);
  }

  /** Listed faces (with their photo's source and box) of `where … ORDER BY … LIMIT` over faces f. */
  async #listed(where: string, params: unknown[]): Promise<ListedFace[]> {
    const { rows } = await this.db.query<StateRow & { source: string; box: number[] }>(
      `SELECT ${stateColumns}, i.source, f.box FROM faces f JOIN images i ON i.id = f.image_id LEFT JOIN people p ON p.id = f.person_id ${where}`,
      params,
    );
    return rows.map((r) => ({ ...stateFromRow(r), source: r.source, box: r.box }));
  }

  /** A person's faces by embedding version (to be clustered again once they are nobody's). */
  async idsOfPersonByVersion(personId: string): Promise<Map<string, string[]>> {
    const { rows } = await this.db.query<{ id: string; embed_version: string }>('SELECT id, embed_version FROM faces WHERE person_id = $1 ORDER BY id', [personId]);
    const byVersion = new Map<string, string[]>();
    for (const f of rows) byVersion.set(f.embed_version, [...(byVersion.get(f.embed_version) ?? []), f.id]);
    return byVersion;
  }

  /** How many faces a person has, and in which images. */
  async imagesOfPerson(personId: string): Promise<{ faces: number; imageIds: string[] }> {
    const { rows } = await this.db.query<{ image_id: string; n: string }>('SELECT image_id, count(*) AS n FROM faces WHERE person_id = $1 GROUP BY image_id', [personId]);
    return { faces: rows.reduce((s, x) => s + Number(x.n), 0), imageIds: rows.map((x) => x.image_id) };
  }

  /** Faces that are a person's or suggested as them (what removing the person changes). */
  async idsOfPerson(personId: string): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>('SELECT id FROM faces WHERE person_id = $1 OR suggested_person_id = $1 ORDER BY id', [personId]);
    return rows.map((r) => r.id);
  }

  /** The faces' person, suggestion and cluster now, for an undo. */
  async snapshot(faceIds: readonly string[]): Promise<FacePrior[]> {
    if (faceIds.length === 0) return [];
    const { rows } = await this.db.query<{ id: string; person_id: string | null; person_source: PersonSource | null; match_distance: number | null; suggested_person_id: string | null; suggested_distance: number | null; cluster_id: string | null }>(
      'SELECT id, person_id, person_source, match_distance, suggested_person_id, suggested_distance, cluster_id FROM faces WHERE id = ANY($1::bigint[]) ORDER BY id',
      [faceIds],
    );
    return rows.map((r) => ({ id: r.id, personId: r.person_id, source: r.person_source, distance: r.match_distance, suggestedPersonId: r.suggested_person_id, suggestedDistance: r.suggested_distance, clusterId: r.cluster_id }));
  }

  /**
   * Puts faces back as a snapshot had them (faces erased since are skipped). A person or cluster
   * gone since: the cluster is made again with its id; a person gone is nobody (people an undo
   * re-creates are mapped through `personIds`). Returns the images of the faces put back.
   */
  async restore(priors: readonly FacePrior[], personIds: ReadonlyMap<string, string> = new Map()): Promise<string[]> {
    const images = new Set<string>();
    for (const p of priors) {
      if (p.clusterId !== null) {
        await this.db.query('INSERT INTO clusters (id, embed_version) SELECT $1::bigint, embed_version FROM faces WHERE id = $2::bigint ON CONFLICT (id) DO NOTHING', [p.clusterId, p.id]);
      }
      const person = (id: string | null) => (id === null ? null : (personIds.get(id) ?? id));
      const { rows } = await this.db.query<{ image_id: string }>(
        `UPDATE faces SET person_id = (SELECT id FROM people WHERE id = $2::bigint), person_source = $3, match_distance = $4,
           suggested_person_id = (SELECT id FROM people WHERE id = $5::bigint), suggested_distance = $6, cluster_id = $7
         WHERE id = $1 RETURNING image_id`,
        [p.id, person(p.personId), p.source, p.distance, person(p.suggestedPersonId), p.suggestedDistance, p.clusterId],
      );
      if (rows[0]) images.add(rows[0].image_id);
    }
    return [...images];
  }

  async count(): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>('SELECT count(*) AS n FROM faces');
    return Number(rows[0]!.n);
  }

  /** Faces made by another embedding model than `embedVersion` (a search with it cannot find them). */
  async countOfOtherVersions(embedVersion: string): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>('SELECT count(*) AS n FROM faces WHERE embed_version <> $1', [embedVersion]);
    return Number(rows[0]!.n);
  }

  /** The embedding versions the index holds faces of (each is clustered on its own). */
  async embedVersions(): Promise<string[]> {
    const { rows } = await this.db.query<{ embed_version: string }>('SELECT DISTINCT embed_version FROM faces ORDER BY embed_version');
    return rows.map((r) => r.embed_version);
  }

  async #searchSettings(limit: number): Promise<void> {
    // ef_search bounds how many candidates one scan returns; the iterative scan goes on past
    // rows the WHERE clause drops, so a filtered query still fills its LIMIT.
    await this.db.query(`SELECT set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', 'relaxed_order', true)`, [String(Math.min(1000, Math.max(64, limit * 2)))]);
  }
}
