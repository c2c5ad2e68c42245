import sharp from 'sharp';

/**
 * Paints some rows of a stacked chips image (lossless WebP or PNG) (`chipSize` wide, `chipSize` tall per face, top to
 * bottom) black, the other chips unchanged: how erasure removes one person's faces from a photo
 * that stays. Returns a new image of the same size and format.
 */
export async function blankChipRows(png: Buffer, rows: readonly number[], chipSize = 150): Promise<Buffer> {
  const image = sharp(png);
  const { width = chipSize, height = 0, format } = await image.metadata();
  const black = { create: { width, height: chipSize, channels: 3 as const, background: { r: 0, g: 0, b: 0 } } };
  const overlays = rows.filter((r) => r >= 0 && (r + 1) * chipSize <= height).map((r) => ({ input: black, top: r * chipSize, left: 0 }));
  if (overlays.length === 0) return png;
  const painted = image.composite(overlays);
  // The same format back (chips are lossless WebP, or PNG from earlier versions).
  return (format === 'webp' ? painted.webp({ lossless: true }) : painted.png()).toBuffer();
}

/**
 * The same for raw RGB chips as the detect stage stores them (chip after chip, `chipSize`² × 3
 * bytes each): those chips' bytes zeroed, in a copy.
 */
export function blankRawChips(raw: Buffer, rows: readonly number[], chipSize = 150): Buffer {
  const per = chipSize * chipSize * 3;
  const out = Buffer.from(raw);
  for (const r of rows) if (r >= 0 && (r + 1) * per <= out.length) out.fill(0, r * per, (r + 1) * per);
  return out;
}
