import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeInputSkips, fileSystemError, FacepipeError, hasImageExtension, InputSkips } from '@facepipe/core';

const errno = (code: string) => Object.assign(new Error(`${code}: something, open 'x.jpg'`), { code });

test('file system failures map to permanent typed errors of the input', () => {
  const cases: [string, string][] = [
    ['ENOENT', 'OBJECT_NOT_FOUND'],
    ['ENOTDIR', 'OBJECT_NOT_FOUND'],
    ['EACCES', 'NOT_READABLE'],
    ['EPERM', 'NOT_READABLE'],
    ['ELOOP', 'NOT_READABLE'],
    ['ENAMETOOLONG', 'NOT_READABLE'],
    ['EIO', 'NOT_READABLE'],
    ['EISDIR', 'NOT_A_FILE'],
    ['ENXIO', 'NOT_A_FILE'],
    ['ENODEV', 'NOT_A_FILE'],
  ];
  for (const [code, expected] of cases) {
    const error = fileSystemError(errno(code), '/photos/x.jpg');
    assert.equal(error.code, expected, code);
    assert.equal(error.retryable, false, `${code} is permanent`);
    assert.match(error.message, /\/photos\/x\.jpg/, 'the message names the path');
  }
  assert.match(fileSystemError(errno('EACCES'), 'a.jpg').message, /permission denied/);
  assert.match(fileSystemError(errno('ELOOP'), 'a.jpg').message, /link loop/);
});

test('failures of the machine, not the file, stay retryable; typed errors pass through', () => {
  for (const code of ['EMFILE', 'ENOMEM']) {
    const error = fileSystemError(errno(code), 'x.jpg');
    assert.equal(error.code, 'INTERNAL', code);
    assert.equal(error.retryable, true, code);
  }
  // A full disk is the machine's condition, typed as such.
  assert.equal(fileSystemError(errno('ENOSPC'), 'x.jpg').code, 'STORAGE_FULL');
  assert.equal(fileSystemError(errno('ENOSPC'), 'x.jpg').retryable, true);
  const typed = new FacepipeError('FILE_TOO_LARGE');
  assert.equal(fileSystemError(typed, 'x.jpg'), typed);
});

test('image names and skip reports', () => {
  assert.ok(hasImageExtension('IMG_0001.HEIC'));
  assert.ok(hasImageExtension('a/b/photo.jpeg'));
  assert.ok(!hasImageExtension('.jpg'));
  assert.ok(!hasImageExtension('notes.txt'));
  assert.ok(!hasImageExtension('jpg'));
  const skips = new InputSkips();
  assert.equal(skips.describe(), '');
  skips.add('hidden');
  skips.add('hidden');
  skips.add('not-an-image-name');
  assert.equal(skips.total, 3);
  assert.deepEqual(skips.nonZero(), { hidden: 2, 'not-an-image-name': 1 });
  assert.equal(skips.describe(), '3 entries skipped (hidden: 2, not named like an image: 1)');
  assert.equal(describeInputSkips({ 'link-to-folder': 1 }), '1 entry skipped (link to a folder (not followed): 1)');
});
