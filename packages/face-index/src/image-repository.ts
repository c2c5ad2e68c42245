import type { Queryable } from './queryable.js';

/** One image as the index knows it (the result document in S3 has the rest). */
export interface IndexedImage {
  id: string;
  source: string;
  originalKey: string;
  status: 'done' | 'failed';
  pipelineVersion: string;
  detectVersion: string | null;
  embedVersion: string | null;
  galleryVersion: number | null;
  faceCount: number;
  resultKey: string;
  errorCode: string | null;
  processedAt: string;
}

/** What a re-index selects: the images that need work, in id order, a page at a time. */
export type ReindexSelection = 'classify' | 'stale';

interface ImageRow {
  id: string;
  source: string;
  original_key: string;
  status: 'done' | 'failed';
  pipeline_version: string;
  detect_version: string | null;
  embed_version: string | null;
  gallery_version: number | null;
  face_count: number;
  result_key: string;
  error_code: string | null;
  processed_at: Date;
}

const columns = 'id, source, original_key, status, pipeline_version, detect_version, embed_version, gallery_version, face_count, result_key, error_code, processed_at';

function fromRow(r: ImageRow): IndexedImage {
  return {
    id: r.id,
    source: r.source,
    originalKey: r.original_key,
    status: r.status,
    pipelineVersion: r.pipeline_version,
    detectVersion: r.detect_version,
    embedVersion: r.embed_version,
    galleryVersion: r.gallery_version,
    faceCount: r.face_count,
    resultKey: r.result_key,
    errorCode: r.error_code,
    processedAt: r.processed_at.toISOString(),
  };
}

/** The `images` table. */
export class ImageRepository {
  constructor(readonly db: Queryable) {}

  /** Inserts or replaces the image's row (idempotent: keyed by image id). */
  async upsert(image: IndexedImage): Promise<void> {
    await this.db.query(
      `INSERT INTO images (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (id) DO UPDATE SET source = EXCLUDED.source, original_key = EXCLUDED.original_key, status = EXCLUDED.status,
         pipeline_version = EXCLUDED.pipeline_version, detect_version = EXCLUDED.detect_version, embed_version = EXCLUDED.embed_version,
         gallery_version = EXCLUDED.gallery_version, face_count = EXCLUDED.face_count, result_key = EXCLUDED.result_key,
         error_code = EXCLUDED.error_code, processed_at = EXCLUDED.processed_at, indexed_at = now()`,
      [image.id, image.source, image.originalKey, image.status, image.pipelineVersion, image.detectVersion, image.embedVersion, image.galleryVersion, image.faceCount, image.resultKey, image.errorCode, image.processedAt],
    );
  }

  /** {@link ImageRepository.upsert} of several images in one statement (ids must differ). */
  async upsertMany(images: readonly IndexedImage[]): Promise<void> {
    if (images.length === 0) return;
    const col = <T>(pick: (i: IndexedImage) => T) => images.map(pick);
    await this.db.query(
      `INSERT INTO images (${columns})
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::int[], $10::text[], $11::text[], $12::timestamptz[])
       ON CONFLICT (id) DO UPDATE SET source = EXCLUDED.source, original_key = EXCLUDED.original_key, status = EXCLUDED.status,
         pipeline_version = EXCLUDED.pipeline_version, detect_version = EXCLUDED.detect_version, embed_version = EXCLUDED.embed_version,
         gallery_version = EXCLUDED.gallery_version, face_count = EXCLUDED.face_count, result_key = EXCLUDED.result_key,
         error_code = EXCLUDED.error_code, processed_at = EXCLUDED.processed_at, indexed_at = now()`,
      [col((i) => i.id), col((i) => i.source), col((i) => i.originalKey), col((i) => i.status), col((i) => i.pipelineVersion), col((i) => i.detectVersion), col((i) => i.embedVersion),
        col((i) => i.galleryVersion), col((i) => i.faceCount), col((i) => i.resultKey), col((i) => i.errorCode), col((i) => i.processedAt)],
    );
  }

  async get(id: string): Promise<IndexedImage | undefined> {
    const { rows } = await this.db.query<ImageRow>(`SELECT ${columns} FROM images WHERE id = $1`, [id]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  /**
   * One page of the images a re-index must queue, after `afterId` (keyset paging on the primary
   * key, so each page is one index range scan however large the library):
   * - `classify`: done images with embedded faces (to be named again);
   * - `stale`: done images made under another pipeline version.
   */
  async selectForReindex(selection: ReindexSelection, pipelineVersion: string, afterId: string, limit: number): Promise<IndexedImage[]> {
    const values: unknown[] = [afterId, limit];
    let where: string;
    if (selection === 'classify') where = `status = 'done' AND face_count > 0 AND detect_version IS NOT NULL AND embed_version IS NOT NULL`;
    else {
      values.push(pipelineVersion);
      where = `status = 'done' AND pipeline_version <> $3`;
    }
    const { rows } = await this.db.query<ImageRow>(`SELECT ${columns} FROM images WHERE id > $1 AND ${where} ORDER BY id LIMIT $2`, values);
    return rows.map(fromRow);
  }

  /** Of these image ids, those the index holds a done result for. */
  async doneAmong(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const { rows } = await this.db.query<{ id: string }>(`SELECT id FROM images WHERE id = ANY($1::text[]) AND status = 'done'`, [ids]);
    return new Set(rows.map((r) => r.id));
  }

  async count(): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>('SELECT count(*) AS n FROM images');
    return Number(rows[0]!.n);
  }
}
