import { opendir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { FacepipeError, type ObjectStore } from '@facepipe/core';

/** One input to ingest: where it came from, and how to read it. */
export interface IngestItem {
  /** Shown in results: path relative to the ingested folder, s3:// URL, or upload name. */
  source: string;
  /** Enrollment: the person this photo enrolls. */
  person?: string;
  /**
   * The bytes. Throws FILE_TOO_LARGE, before reading, when the input is over `maxBytes`, and
   * EMPTY_INPUT for zero bytes.
   */
  read(maxBytes: number): Promise<Buffer>;
  /** When the bytes already sit in S3: copy server-side instead of uploading them again. */
  s3?: { bucket: string; key: string };
}

const skipNames = new Set(['.DS_Store', 'Thumbs.db', 'desktop.ini']);

/**
 * File name extensions taken from folders by default: the formats facepipe decodes, plus image
 * formats it recognises but refuses (so a HEIC or SVG photo is reported as UNSUPPORTED_FORMAT
 * rather than silently skipped). Other files (READMEs, sidecars) are not inputs unless
 * `allFiles` is set.
 */
export const imageExtensions = new Set([
  'jpg', 'jpeg', 'jpe', 'jfif', 'png', 'apng', 'webp', 'gif', 'tif', 'tiff', 'bmp', 'dib', 'ico', 'avif',
  'heic', 'heif', 'jxl', 'jp2', 'j2k', 'svg', 'psd', 'pbm', 'pgm', 'ppm', 'pnm', 'exr', 'hdr', 'qoi',
]);

function isImageName(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot > 0 && imageExtensions.has(name.slice(dot + 1).toLowerCase());
}

/**
 * Image files under `root` (by extension, see {@link imageExtensions}; every file with
 * `allFiles`), depth first, each folder's entries in name order, streamed: folders are read one
 * at a time, so millions of files never sit in memory. Hidden files and folders (dot names) and
 * OS clutter files are skipped. A file named like an image that is not one is still an input,
 * and is reported with its typed error.
 */
export async function* localFolderItems(root: string, options: { personFromFolder?: boolean; allFiles?: boolean } = {}): AsyncIterable<IngestItem> {
  const info = await stat(root);
  if (info.isFile()) {
    yield fileItem(root, root.split(sep).pop() ?? root);
    return;
  }
  async function* walk(dir: string): AsyncIterable<IngestItem> {
    const names: { name: string; isDir: boolean; isFile: boolean }[] = [];
    for await (const entry of await opendir(dir)) {
      if (entry.name.startsWith('.') || skipNames.has(entry.name)) continue;
      if (entry.isFile() && !options.allFiles && !isImageName(entry.name)) continue;
      names.push({ name: entry.name, isDir: entry.isDirectory(), isFile: entry.isFile() });
    }
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of names) {
      const path = join(dir, entry.name);
      if (entry.isDir) yield* walk(path);
      else if (entry.isFile) {
        const rel = relative(root, path).split(sep).join('/');
        const person = options.personFromFolder ? rel.split('/')[0] : undefined;
        yield fileItem(path, rel, person && rel.includes('/') ? person : undefined);
      }
    }
  }
  yield* walk(root);
}

function checkSize(size: number, maxBytes: number): void {
  if (size === 0) throw new FacepipeError('EMPTY_INPUT');
  if (size > maxBytes) throw new FacepipeError('FILE_TOO_LARGE', `${size} bytes is over the limit of ${maxBytes} (FACEPIPE_MAX_BYTES)`);
}

function fileItem(path: string, source: string, person?: string): IngestItem {
  return {
    source,
    person,
    read: async (maxBytes) => {
      checkSize((await stat(path)).size, maxBytes);
      return readFile(path);
    },
  };
}

/** Named files (for `enroll --name X files…` and `detect`-style lists). */
export async function* fileListItems(paths: readonly string[], person?: string): AsyncIterable<IngestItem> {
  for (const path of paths) yield fileItem(path, path, person);
}

/** Parses `s3://bucket/prefix`. */
export function parseS3Url(url: string): { bucket: string; prefix: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  return match ? { bucket: match[1]!, prefix: match[2] ?? '' } : undefined;
}

/** Every object under an S3 prefix, listed a page at a time. */
export async function* s3PrefixItems(store: ObjectStore, prefix: string): AsyncIterable<IngestItem> {
  for await (const object of store.list(prefix)) {
    if (object.key.endsWith('/')) continue;
    yield {
      source: `s3://${store.bucket}/${object.key}`,
      read: async (maxBytes) => {
        checkSize(object.size, maxBytes);
        return store.getBytes(object.key);
      },
      s3: { bucket: store.bucket, key: object.key },
    };
  }
}
