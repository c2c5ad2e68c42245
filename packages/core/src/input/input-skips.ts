/** Why a folder entry was not taken as an input. */
export type InputSkipReason = 'hidden' | 'os-clutter' | 'not-an-image-name' | 'link-to-folder';

const REASON_WORDS: Record<InputSkipReason, string> = {
  hidden: 'hidden',
  'os-clutter': 'OS clutter',
  'not-an-image-name': 'not named like an image',
  'link-to-folder': 'link to a folder (not followed)',
};

/** Per-reason counts of folder entries skipped on purpose, so that a skip is never silent. */
export class InputSkips {
  readonly counts: Record<InputSkipReason, number> = { hidden: 0, 'os-clutter': 0, 'not-an-image-name': 0, 'link-to-folder': 0 };

  add(reason: InputSkipReason): void {
    this.counts[reason] += 1;
  }

  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  /** Only the reasons that occurred, e.g. `{ hidden: 2, "not-an-image-name": 1 }`. */
  nonZero(): Partial<Record<InputSkipReason, number>> {
    return Object.fromEntries(Object.entries(this.counts).filter(([, n]) => n > 0));
  }

  /** See {@link describeInputSkips}. */
  describe(): string {
    return describeInputSkips(this.counts);
  }
}

/** "3 entries skipped (hidden: 2, not named like an image: 1)", or "" when none. */
export function describeInputSkips(counts: Partial<Record<InputSkipReason, number>>): string {
  const reasons = (Object.keys(REASON_WORDS) as InputSkipReason[]).filter((r) => (counts[r] ?? 0) > 0);
  const total = reasons.reduce((sum, r) => sum + counts[r]!, 0);
  if (total === 0) return '';
  return `${total} ${total === 1 ? 'entry' : 'entries'} skipped (${reasons.map((r) => `${REASON_WORDS[r]}: ${counts[r]}`).join(', ')})`;
}
