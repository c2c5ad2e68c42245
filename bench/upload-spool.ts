/**
 * What validate-first costs per uploaded file: the service now writes each file part to a
 * private temp dir while the request is read, and reads it back at admission, where it used to
 * hold the chunks in memory. This measures exactly that step both ways in the same run,
 * interleaved (so a shared machine's load hits both alike): "memory" = collect the 64 KiB
 * chunks and concatenate; "spool" = mkdtemp, write the chunks through a file handle, read the
 * file back, remove the dir. Prints per-file medians and spool / memory.
 *
 *   npx tsx bench/upload-spool.ts [--sizes 8192,1048576,8388608] [--rounds 200]
 */
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '8192,1048576,8388608' }, rounds: { type: 'string', default: '200' } } });
const sizes = values.sizes.split(',').map(Number);
const rounds = Number(values.rounds);
const chunkSize = 64 * 1024;

function chunksOf(size: number): Buffer[] {
  const all = Buffer.alloc(size, 7);
  const chunks: Buffer[] = [];
  for (let at = 0; at < size; at += chunkSize) chunks.push(all.subarray(at, Math.min(at + chunkSize, size)));
  return chunks;
}

async function inMemory(chunks: Buffer[]): Promise<number> {
  const kept: Buffer[] = [];
  let size = 0;
  for (const c of chunks) {
    kept.push(c);
    size += c.length;
  }
  return Buffer.concat(kept, size).length;
}

async function spooled(chunks: Buffer[]): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'facepipe-bench-spool-'));
  try {
    const path = join(dir, '0');
    const handle = await open(path, 'wx', 0o600);
    try {
      for (const c of chunks) await handle.write(c);
    } finally {
      await handle.close();
    }
    return (await readFile(path)).length;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(`${rounds} rounds per size, interleaved; machine shared with other work (ratios, not absolute times, are the figure)`);
for (const size of sizes) {
  const chunks = chunksOf(size);
  const memory: number[] = [];
  const spool: number[] = [];
  for (let i = 0; i < rounds; i++) {
    let t = performance.now();
    await inMemory(chunks);
    memory.push(performance.now() - t);
    t = performance.now();
    await spooled(chunks);
    spool.push(performance.now() - t);
  }
  const m = median(memory);
  const s = median(spool);
  console.log(`${String(size).padStart(9)} bytes: memory ${m.toFixed(3)} ms, spool ${s.toFixed(3)} ms per file (median), spool - memory ${(s - m).toFixed(3)} ms, spool / memory ${(s / m).toFixed(1)}×`);
}
