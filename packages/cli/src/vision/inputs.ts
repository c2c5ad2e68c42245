import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { FacepipeError } from '@facepipe/core';

/** File name extensions taken when a folder is searched (files named explicitly are always taken). */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.webp', '.gif', '.tif', '.tiff', '.bmp', '.dib', '.ico', '.avif', '.heic', '.heif',
]);

/** Whether a file name has one of {@link IMAGE_EXTENSIONS} (case-insensitive). */
export function hasImageExtension(name: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
}

/**
 * Command-line paths → files, in the order given. A folder is replaced by the image files under it
 * (recursively, names sorted by code point, symbolic links to folders not followed, hidden entries
 * skipped); any other path, including one that does not exist, is kept as given so that its
 * failure is reported on its own line.
 */
export async function expandInputs(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const info = await stat(p).catch(() => undefined);
    if (info?.isDirectory()) await walk(p, out);
    else out.push(p);
  }
  return out;
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) await walk(path, out);
    else if ((e.isFile() || e.isSymbolicLink()) && hasImageExtension(e.name)) out.push(path);
  }
}

/**
 * Reads one input file, with the failures of the file system as typed errors: a missing path is
 * OBJECT_NOT_FOUND, a file over `maxBytes` is FILE_TOO_LARGE (checked before reading), a folder
 * is NOT_AN_IMAGE, anything else INTERNAL.
 */
export async function readInputFile(path: string, maxBytes?: number): Promise<Uint8Array> {
  try {
    if (maxBytes !== undefined) {
      const { size } = await stat(path);
      if (size > maxBytes) throw new FacepipeError('FILE_TOO_LARGE', `the input has ${size} bytes, more than the limit of ${maxBytes}`);
    }
    return await readFile(path);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new FacepipeError('OBJECT_NOT_FOUND', `no such file: ${path}`, { cause: err });
    if (code === 'EISDIR') throw new FacepipeError('NOT_AN_IMAGE', `${path} is a folder`, { cause: err });
    throw FacepipeError.from(err);
  }
}
