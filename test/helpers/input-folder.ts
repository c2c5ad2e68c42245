import { spawnSync } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temporary folder holding every kind of entry a photo folder can hold; see {@link buildInputFolder}. */
export interface InputFolder {
  root: string;
  /** Removes the folder and stops the socket's server. Idempotent. */
  close(): Promise<void>;
}

/** The entries of {@link buildInputFolder} that are inputs, in walk order, with the code a root reader gets (undefined: readable). */
export const INPUT_FOLDER_ENTRIES_AS_ROOT: readonly [string, string | undefined][] = [
  ['a-good.jpg', undefined],
  ['b-link.jpg', undefined],
  ['c-dangling.jpg', 'OBJECT_NOT_FOUND'],
  ['d-loop.jpg', 'NOT_READABLE'],
  ['e-fifo.jpg', 'NOT_A_FILE'],
  ['empty.jpg', 'EMPTY_INPUT'],
  ['f-socket.jpg', 'NOT_A_FILE'],
  ['g-locked.jpg', undefined],
  ['locked-sub/x.jpg', undefined],
  ['sub/photo.jpg', undefined],
];

/** The same for a reader that is not root: permissions apply. */
export const INPUT_FOLDER_ENTRIES_AS_USER: readonly [string, string | undefined][] = INPUT_FOLDER_ENTRIES_AS_ROOT.map(([name, code]): [string, string | undefined] =>
  name === 'g-locked.jpg' ? [name, 'NOT_READABLE'] : name === 'locked-sub/x.jpg' ? ['locked-sub', 'NOT_READABLE'] : [name, code],
);

/** Entries skipped on purpose: `.hidden.jpg`, `Thumbs.db`, `notes.txt`, `linked-folder` → `sub`. */
export const INPUT_FOLDER_SKIPS = { hidden: 1, 'os-clutter': 1, 'not-an-image-name': 1, 'link-to-folder': 1 } as const;

/**
 * Builds, in a fresh temporary folder readable by every user: a good photo (a copy of `photo`),
 * a link to it, a dangling link, a link loop, a FIFO, a unix socket, an empty file, a `chmod 000`
 * copy of the photo, a `chmod 000` subfolder, a subfolder with a photo, a link to that subfolder,
 * a hidden photo, OS clutter and a text file. Names end in `.jpg` so that the name filter lets
 * the odd entries through to the reader.
 */
export async function buildInputFolder(photo: string): Promise<InputFolder> {
  const root = await mkdtemp(join(tmpdir(), 'fp-inputs-'));
  await chmod(root, 0o755);
  const at = (name: string) => join(root, name);
  await copyFile(photo, at('a-good.jpg'));
  await symlink('a-good.jpg', at('b-link.jpg'));
  await symlink('missing.jpg', at('c-dangling.jpg'));
  await symlink('d-loop.jpg', at('d-loop.jpg'));
  const fifo = spawnSync('mkfifo', [at('e-fifo.jpg')], { encoding: 'utf8' });
  if (fifo.status !== 0) throw new Error(`mkfifo failed: ${fifo.stderr}`);
  await writeFile(at('empty.jpg'), '');
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(at('f-socket.jpg'), resolve));
  await copyFile(photo, at('g-locked.jpg'));
  await chmod(at('g-locked.jpg'), 0o000);
  await mkdir(at('locked-sub'));
  await copyFile(photo, at('locked-sub/x.jpg'));
  await chmod(at('locked-sub'), 0o000);
  await mkdir(at('sub'));
  await copyFile(photo, at('sub/photo.jpg'));
  await symlink('sub', at('linked-folder'));
  await copyFile(photo, at('.hidden.jpg'));
  await writeFile(at('Thumbs.db'), 'clutter');
  await writeFile(at('notes.txt'), 'not a photo');
  let closed: Promise<void> | undefined;
  return {
    root,
    close: () =>
      (closed ??= (async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await chmod(at('locked-sub'), 0o755).catch(() => undefined);
        await rm(root, { recursive: true, force: true });
      })()),
  };
}
