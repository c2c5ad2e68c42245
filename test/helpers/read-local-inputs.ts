/**
 * Reads every input of a folder through the shared local input reader and prints one JSON
 * object: `{ entries: [{ source, code? , bytes? }], skips }`. Run as another user (setpriv) by
 * test/integration/local-inputs.test.ts, so that permissions apply even when the suite runs as root.
 * Usage: node --import tsx test/helpers/read-local-inputs.ts <folder>
 */
import { FacepipeError } from '@facepipe/core';
import { LocalFolderSource } from '@facepipe/producer';

export async function readAllInputs(root: string): Promise<{ entries: { source: string; code?: string; bytes?: number }[]; skips: Record<string, number> }> {
  const source = await LocalFolderSource.open(root);
  const entries: { source: string; code?: string; bytes?: number }[] = [];
  for await (const item of source) {
    try {
      entries.push({ source: item.source, bytes: (await item.read(1 << 30)).length });
    } catch (err) {
      entries.push({ source: item.source, code: FacepipeError.from(err).code });
    }
  }
  return { entries, skips: source.skips.nonZero() };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  process.stdout.write(`${JSON.stringify(await readAllInputs(process.argv[2]!))}\n`);
}
