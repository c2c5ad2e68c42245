/**
 * Embeddings of the dev LFW photos (../shared/data/recognition/lfw_dev), computed once with the
 * pipeline's own models and settings (FaceAnalyzer: SSD detection, landmarks, dlib alignment,
 * dlib ResNet) and cached in the OS temp folder, for the clustering and face-index benchmarks.
 * One face per photo: the largest detected; photos with no face are counted and left out.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FaceAnalyzer } from '@facepipe/vision';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
export const lfwDir = resolve(repoRoot, process.env.FACEPIPE_TEST_DATA ?? '../shared/data', 'recognition/lfw_dev/lfw-deepfunneled');

export interface LfwEmbeddings {
  embedVersion: string;
  faces: { person: string; file: string; embedding: number[] }[];
  noFace: string[];
}

export async function lfwEmbeddings(): Promise<LfwEmbeddings> {
  if (!existsSync(lfwDir)) throw new Error(`missing test data: ${lfwDir}`);
  const files = readdirSync(lfwDir).sort().flatMap((person) => readdirSync(join(lfwDir, person)).sort().map((file) => ({ person, file })));
  const cache = join(tmpdir(), `facepipe-lfw-dev-embeddings-${files.length}.json`);
  if (existsSync(cache)) return JSON.parse(readFileSync(cache, 'utf8')) as LfwEmbeddings;
  const analyzer = await FaceAnalyzer.create();
  const out: LfwEmbeddings = { embedVersion: analyzer.embedVersion.tag, faces: [], noFace: [] };
  try {
    for (const { person, file } of files) {
      const described = await analyzer.describe(readFileSync(join(lfwDir, person, file)));
      if (described.faces.length === 0) {
        out.noFace.push(`${person}/${file}`);
        continue;
      }
      const area = (i: number) => described.faces[i]!.box[2] * described.faces[i]!.box[3];
      const largest = described.faces.map((_, i) => i).sort((a, b) => area(b) - area(a))[0]!;
      out.faces.push({ person, file, embedding: Array.from(described.embeddings[largest]!) });
    }
  } finally {
    await analyzer.close();
  }
  writeFileSync(cache, JSON.stringify(out));
  return out;
}
