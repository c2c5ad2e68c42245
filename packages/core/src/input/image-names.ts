/**
 * File name extensions (lower case, no dot) taken as inputs when a folder is searched: the
 * formats facepipe decodes, plus image formats it recognises but refuses, so that a JPEG XL or SVG
 * photo is reported as UNSUPPORTED_FORMAT rather than skipped. Files named explicitly are always
 * taken, whatever their name.
 */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  'jpg', 'jpeg', 'jpe', 'jfif', 'png', 'apng', 'webp', 'gif', 'tif', 'tiff', 'bmp', 'dib', 'ico', 'avif',
  'heic', 'heif', 'hif', 'jxl', 'jp2', 'j2k', 'svg', 'psd', 'pbm', 'pgm', 'ppm', 'pnm', 'exr', 'hdr', 'qoi',
]);

/** Whether a file name ends in one of {@link IMAGE_EXTENSIONS} (case-insensitive; ".jpg" alone is not a name). */
export function hasImageExtension(name: string): boolean {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 && IMAGE_EXTENSIONS.has(base.slice(dot + 1).toLowerCase());
}

/** Files operating systems and photo tools leave in folders; never inputs. */
export const OS_CLUTTER_NAMES: ReadonlySet<string> = new Set(['Thumbs.db', 'ehthumbs.db', 'desktop.ini', 'Desktop.ini', 'Icon\r', '$RECYCLE.BIN', 'System Volume Information', 'lost+found']);
