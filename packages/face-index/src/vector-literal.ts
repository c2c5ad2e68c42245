/** pgvector's text form of a vector: `[1,2,3]`. Non-finite values are refused (pgvector would too). */
export function toVectorLiteral(values: ArrayLike<number>): string {
  const parts: string[] = [];
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new RangeError(`vector component ${i} is ${v}`);
    parts.push(String(v));
  }
  return `[${parts.join(',')}]`;
}

/** Parses pgvector's text form back into numbers. */
export function parseVectorLiteral(text: string): number[] {
  const inner = text.trim().replace(/^\[/, '').replace(/\]$/, '');
  return inner === '' ? [] : inner.split(',').map(Number);
}
