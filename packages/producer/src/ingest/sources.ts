import { stat } from 'node:fs/promises';
import {
  FacepipeError,
  fileSystemError,
  IMAGE_EXTENSIONS,
  LocalInputWalker,
  readLocalFile,
  type InputSkips,
  type ObjectStore,
} from '@facepipe/core';

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

/**
 * File name extensions taken from folders by default: the formats facepipe decodes, plus image
 * formats it recognises but refuses (so a JPEG XL or SVG photo is reported as UNSUPPORTED_FORMAT
 * rather than silently skipped). Other files (READMEs, sidecars) are not inputs unless
 * `allFiles` is set. The list is the shared one of `@facepipe/core`'s local input reader.
 */
export const imageExtensions: ReadonlySet<string> = IMAGE_EXTENSIONS;

/**
 * The inputs of a local folder (or one file), found and read by the local input reader shared
 * with `facepipe detect` and `verify` (`LocalInputWalker`, `readLocalFile` in `@facepipe/core`):
 * depth first, each folder's entries in name order, streamed one folder at a time, so millions of
 * files never sit in memory. Every entry is an item or a counted skip ({@link skips}: hidden
 * names, OS clutter, other names unless `allFiles`, links to folders). Links to files are
 * followed; dangling links, link loops, FIFOs, sockets, devices, unreadable files and folders are
 * items that fail with their typed, permanent error (OBJECT_NOT_FOUND, NOT_READABLE, NOT_A_FILE)
 * and so get their own result. A file named like an image that is not one is still an input.
 */
export class LocalFolderSource implements AsyncIterable<IngestItem> {
  readonly #walker: LocalInputWalker;

  private constructor(readonly root: string, readonly options: LocalFolderOptions) {
    this.#walker = new LocalInputWalker({ allFiles: options.allFiles });
  }

  /**
   * Checks the root before anything is created for it: a missing or unreadable folder throws its
   * typed error (OBJECT_NOT_FOUND, NOT_READABLE) here, not halfway into a batch.
   */
  static async open(root: string, options: LocalFolderOptions = {}): Promise<LocalFolderSource> {
    await stat(root).catch((err: unknown) => {
      throw fileSystemError(err, root);
    });
    return new LocalFolderSource(root, options);
  }

  /** Entries skipped on purpose so far, per reason (complete once iteration has ended). */
  get skips(): InputSkips {
    return this.#walker.skips;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<IngestItem> {
    for await (const entry of this.#walker.folder(this.root)) {
      const rel = entry.relative;
      const person = this.options.personFromFolder && rel.includes('/') ? rel.split('/')[0] : undefined;
      yield entry.error ? failedItem(rel, entry.error, person) : fileItem(entry.path, rel, person);
    }
  }
}

export interface LocalFolderOptions {
  /** Enrollment: the first folder level names the person. @defaultValue false */
  personFromFolder?: boolean;
  /** Take every file, not only image file names. @defaultValue false */
  allFiles?: boolean;
}

/** {@link LocalFolderSource} as a plain stream (the root is checked on the first read). */
export async function* localFolderItems(root: string, options: LocalFolderOptions = {}): AsyncIterable<IngestItem> {
  yield* await LocalFolderSource.open(root, options);
}

function checkSize(size: number, maxBytes: number): void {
  if (size === 0) throw new FacepipeError('EMPTY_INPUT');
  if (size > maxBytes) throw new FacepipeError('FILE_TOO_LARGE', `${size} bytes is over the limit of ${maxBytes} (FACEPIPE_MAX_BYTES)`);
}

function fileItem(path: string, source: string, person?: string): IngestItem {
  return {
    source,
    person,
    read: (maxBytes) => readLocalFile(path, { maxBytes, rejectEmpty: true }),
  };
}

/** An entry known to be unusable before reading (a subfolder that cannot be listed). */
function failedItem(source: string, error: FacepipeError, person?: string): IngestItem {
  return { source, person, read: () => Promise.reject(error) };
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
