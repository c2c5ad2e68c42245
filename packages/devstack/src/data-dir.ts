import { mkdirSync, statSync } from 'node:fs';

/**
 * The data dir of a local deployment cannot be kept from other users: it is not a folder of
 * this user's, or others may read or write it. The message is one line that names the fix.
 */
export class DataDirError extends Error {
  constructor(
    readonly dataDir: string,
    message: string,
  ) {
    super(message);
    this.name = 'DataDirError';
  }
}

/** Permission bits every process of a local deployment creates files with: owner only. */
export const ownerOnlyUmask = 0o077;

/**
 * Makes `dataDir` a folder only its owner can enter, before anything is written in it: created
 * mode 0700 when missing; refused with the fix when it exists open to others (group or other
 * bits) or belongs to another user. Sets this process's umask to 077, so every file and folder it
 * writes — and every process it starts (redis-server, the workers) writes — is owner-only.
 * Faces are biometric data: originals, crops, embeddings and the database live under this folder.
 */
export function secureDataDir(dataDir: string): void {
  process.umask(ownerOnlyUmask);
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new DataDirError(dataDir, `data dir ${dataDir} is not a folder: choose another with --data-dir`);
    throw err;
  }
  const stat = statSync(dataDir);
  if (!stat.isDirectory()) throw new DataDirError(dataDir, `data dir ${dataDir} is not a folder: choose another with --data-dir`);
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    throw new DataDirError(dataDir, `data dir ${dataDir} belongs to another user (uid ${stat.uid}): use a data dir of your own (--data-dir)`);
  }
  const open = stat.mode & 0o077;
  if (open !== 0) {
    const mode = (stat.mode & 0o777).toString(8).padStart(3, '0');
    throw new DataDirError(dataDir, `data dir ${dataDir} is open to other users (mode ${mode}); faces are biometric data: run \`chmod 700 ${dataDir}\` and start again`);
  }
}
