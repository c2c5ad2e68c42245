import { hasImageExtension as isImageName, LocalInputWalker, readLocalFile, type FacepipeError, type InputSkips } from '@facepipe/core/light';

/**
 * The CLI side of the shared local input reader (`@facepipe/core` input/): `detect`, `verify` and
 * the evaluation commands find and read files exactly as folder ingest does.
 */

/** Whether a file name has an image extension (case-insensitive). */
export function hasImageExtension(name: string): boolean {
  return isImageName(name);
}

/** Command-line paths expanded into files, and what the folder search skipped on purpose. */
export interface ExpandedInputs {
  files: string[];
  skips: InputSkips;
  /** Entries known to fail before reading (a subfolder that cannot be listed: NOT_READABLE). */
  errors: Map<string, FacepipeError>;
}

/**
 * Command-line paths → files, in the order given. A folder is replaced by the inputs under it
 * (recursively, names sorted by code point; see `LocalInputWalker`); any other path, including
 * one that does not exist, is kept as given so that its failure is reported on its own line.
 */
export async function expandInputsWithSkips(paths: readonly string[]): Promise<ExpandedInputs> {
  const walker = new LocalInputWalker();
  const files: string[] = [];
  const errors = new Map<string, FacepipeError>();
  for await (const entry of walker.paths(paths)) {
    files.push(entry.path);
    if (entry.error) errors.set(entry.path, entry.error);
  }
  return { files, skips: walker.skips, errors };
}

/** {@link expandInputsWithSkips} without the skip counts. */
export async function expandInputs(paths: readonly string[]): Promise<string[]> {
  return (await expandInputsWithSkips(paths)).files;
}

/**
 * Reads one input file, with the failures of the file system as permanent typed errors: missing
 * file or dangling link OBJECT_NOT_FOUND, permission denied or link loop NOT_READABLE, FIFO,
 * socket, device or folder NOT_A_FILE (never blocking on a FIFO), over `maxBytes` FILE_TOO_LARGE.
 */
export function readInputFile(path: string, maxBytes?: number): Promise<Uint8Array> {
  return readLocalFile(path, { maxBytes });
}
