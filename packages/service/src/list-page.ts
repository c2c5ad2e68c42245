/**
 * A page of a list the service holds whole (API keys, webhooks, schedules: tens of entries read
 * in one Redis call), paged like every list of the API: `limit` entries after `cursor`, the
 * `nextCursor` of the previous page. The cursor is the last entry's sort key (opaque, base64url),
 * so an entry added or removed between pages neither repeats nor hides another.
 */
export function listPage<T>(items: readonly T[], sortKey: (item: T) => string, limit: number, cursor?: string): { page: T[]; nextCursor: string | null } {
  const keyed = items.map((item) => ({ item, key: sortKey(item) })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const after = cursor === undefined ? undefined : Buffer.from(cursor, 'base64url').toString('utf8');
  const rest = after === undefined ? keyed : keyed.filter((k) => k.key > after);
  const page = rest.slice(0, limit);
  const last = page[page.length - 1];
  return { page: page.map((k) => k.item), nextCursor: rest.length > limit && last ? Buffer.from(last.key, 'utf8').toString('base64url') : null };
}

/** A sort key part for a number, so keys compare as the numbers do (non-negative, up to 16 digits). */
export const sortableNumber = (n: number): string => String(Math.max(0, Math.trunc(n))).padStart(16, '0');
