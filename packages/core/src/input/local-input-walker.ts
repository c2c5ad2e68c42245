import { opendir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FacepipeError } from '../errors/index.js';
import { fileSystemError } from './file-system-error.js';
import { hasImageExtension, OS_CLUTTER_NAMES } from './image-names.js';
import { InputSkips } from './input-skips.js';

/** One input found on the local file system. Reading it (see `readLocalFile`) types its failures. */
export interface LocalInputEntry {
  /** The path to read. */
  path: string;
  /** Path relative to the searched folder with `/` separators; the path as given for a named file. */
  relative: string;
  /** Set when the entry is known to be unusable before reading (a subfolder that cannot be listed). */
  error?: FacepipeError;
}

export interface LocalInputWalkerOptions {
  /** Take every file of a folder, not only names with an image extension. @defaultValue false */
  allFiles?: boolean;
}

interface Listed {
  name: string;
  folder: boolean;
  link: boolean;
}

const byCodePoint = (a: Listed, b: Listed): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Finds local inputs, the same way for `facepipe detect`, `verify` and folder ingest. Folders are
 * searched depth first, each folder's entries in code-point order, one folder in memory at a time.
 * Every entry ends as an input or as a counted skip in {@link skips}: hidden names and OS clutter,
 * names without an image extension (unless `allFiles`), and symbolic links to folders (not
 * followed, so a link loop cannot recurse). Everything else is an input: regular files, links to
 * files, dangling links, link loops, FIFOs, sockets and devices, each failing with its own typed
 * error when read, and a subfolder that cannot be listed is an entry carrying NOT_READABLE.
 */
export class LocalInputWalker {
  readonly skips = new InputSkips();

  constructor(readonly options: LocalInputWalkerOptions = {}) {}

  /**
   * Paths named on a command line, in the order given: a folder is replaced by its inputs, any
   * other path (missing ones included) is kept as given, so its failure is reported on its own line.
   */
  async *paths(paths: Iterable<string>): AsyncGenerator<LocalInputEntry> {
    for (const path of paths) {
      const info = await stat(path).catch(() => undefined);
      if (info?.isDirectory()) yield* this.#walk(path, '');
      else yield { path, relative: path };
    }
  }

  /**
   * The inputs under `root` (or `root` itself when it is not a folder). A root that does not exist
   * or cannot be read throws its typed error (OBJECT_NOT_FOUND, NOT_READABLE), before anything is
   * yielded.
   */
  async *folder(root: string): AsyncGenerator<LocalInputEntry> {
    const info = await stat(root).catch((err: unknown) => {
      throw fileSystemError(err, root);
    });
    if (!info.isDirectory()) {
      yield { path: root, relative: root.split(/[\\/]/).pop() || root };
      return;
    }
    yield* this.#walk(root, '', true);
  }

  async *#walk(dir: string, prefix: string, isRoot = false): AsyncGenerator<LocalInputEntry> {
    let listed: Listed[];
    try {
      listed = await this.#list(dir);
    } catch (err) {
      const error = fileSystemError(err, dir);
      if (isRoot) throw error;
      yield { path: dir, relative: prefix.replace(/\/$/, '') || dir, error };
      return;
    }
    for (const entry of listed) {
      const path = join(dir, entry.name);
      const relative = `${prefix}${entry.name}`;
      if (entry.folder) {
        yield* this.#walk(path, `${relative}/`);
        continue;
      }
      if (entry.link && (await stat(path).catch(() => undefined))?.isDirectory()) {
        this.skips.add('link-to-folder');
        continue;
      }
      if (!this.options.allFiles && !hasImageExtension(entry.name)) {
        this.skips.add('not-an-image-name');
        continue;
      }
      yield { path, relative };
    }
  }

  /** One folder's entries, hidden names and clutter counted and dropped, sorted by code point. */
  async #list(dir: string): Promise<Listed[]> {
    const listed: Listed[] = [];
    for await (const entry of await opendir(dir)) {
      if (entry.name.startsWith('.')) this.skips.add('hidden');
      else if (OS_CLUTTER_NAMES.has(entry.name)) this.skips.add('os-clutter');
      else listed.push({ name: entry.name, folder: entry.isDirectory(), link: entry.isSymbolicLink() });
    }
    return listed.sort(byCodePoint);
  }
}
