import { createHash, randomBytes } from 'node:crypto';
import type { ObjectStore } from '@facepipe/core';

/** Where the erasure log lives in the bucket: one small JSON object per erasure. */
export const erasureLogPrefix = 'erasures/';

/** What was erased, and how much, without any of the erased data. */
export interface ErasureCounts {
  images: number;
  faces: number;
  /** S3 objects deleted. */
  objectsDeleted: number;
  /** S3 objects rewritten without the erased data (result documents, manifests, galleries, chips). */
  objectsRewritten: number;
  /** Database rows deleted (images, faces, examples, hand labels, people, clusters). */
  rows: number;
  /** Redis keys, fields, jobs and stream entries removed. */
  redis: number;
}

/**
 * One erasure as recorded: who asked, when, what kind, and counts. The subject is a keyed
 * reference, not the image id or the name: whoever holds the photo (or knows the name) can
 * check it was erased (`facepipe erasures --ref-of`), but the log itself names nobody and holds
 * no content hash a search of the store would find.
 */
export interface ErasureRecord {
  schema: 'facepipe.erasure/1';
  id: string;
  at: string;
  actor: string;
  kind: 'image' | 'person' | 'retention';
  /** person erasures: `photos` (the person, their faces, and photos only they appear in) or `faces` (the person and their faces; photos stay). */
  mode?: 'photos' | 'faces';
  /** erasureRef() of the image id or person name; absent for retention runs. */
  subjectRef?: string;
  /** Images that were erased (the rest of a person's photos only lost their faces). */
  counts: ErasureCounts;
  /** Retention runs: the rule applied. */
  rule?: string;
}

/** The log's reference to an erased image id or person name: sha256 of a fixed tag and the value, 16 hex digits. */
export function erasureRef(kind: 'image' | 'person', value: string): string {
  return createHash('sha256').update(`facepipe.erasure:${kind}:${value}`).digest('hex').slice(0, 16);
}

/** The erasure log in S3 (written once per erasure, never changed). */
export class ErasureLog {
  constructor(readonly store: ObjectStore) {}

  async append(record: Omit<ErasureRecord, 'schema' | 'id' | 'at'>): Promise<ErasureRecord> {
    const at = new Date();
    // Sortable by time: keys list oldest first.
    const id = `e${at.getTime().toString(36)}${randomBytes(4).toString('hex')}`;
    const full: ErasureRecord = { schema: 'facepipe.erasure/1', id, at: at.toISOString(), ...record };
    await this.store.putJson(`${erasureLogPrefix}${id}.json`, full);
    return full;
  }

  /**
   * The newest `limit` records, newest first; with `before` (a record's id, the last of the
   * previous page), the `limit` older than it.
   */
  async list(limit = 100, before?: string): Promise<ErasureRecord[]> {
    const keys: string[] = [];
    for await (const o of this.store.list(erasureLogPrefix)) keys.push(o.key);
    const older = before === undefined ? keys : keys.filter((k) => k < `${erasureLogPrefix}${before}.json`);
    const newest = older.slice(-limit).reverse();
    const records = await Promise.all(newest.map((k) => this.store.getJson<ErasureRecord>(k)));
    return records.filter((r): r is ErasureRecord => r !== undefined);
  }
}
