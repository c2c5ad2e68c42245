import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { FacepipeError, hasImageExtension, type FacepipeConfig, type FaceQuality } from '@facepipe/core/light';
import { FaceAnalyzer } from '@facepipe/vision';
import { ProgressBar } from '../ui/progress.js';
import { readInputFile } from './inputs.js';
import { mapOrdered } from './ordered.js';
import { analyzerOptions, type DetectSettings } from './settings.js';

/** One photo of a labelled library, after the pipeline's detection, alignment and embedding. */
export interface LibraryPhoto {
  /** Path relative to the library folder given. */
  file: string;
  /** Who the photo shows (its subject: the largest, most central face). */
  person: string;
  sha256: string;
  width: number;
  height: number;
  faces: { box: number[]; score: number; quality?: FaceQuality; embedding: number[] }[];
  error?: string;
}

/** A labelled photo file: identity = its folder, or LFW-style `<Name>_0001.jpg` for files at the top. */
export interface LabelledFile {
  path: string;
  file: string;
  person: string;
}

/** Lists a labelled library: a folder per person (at any depth), or LFW-style names. */
export async function listLabelledLibrary(dir: string): Promise<LabelledFile[]> {
  const out: LabelledFile[] = [];
  const walk = async (folder: string): Promise<void> => {
    const entries = (await readdir(folder, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const path = join(folder, e.name);
      if (e.isDirectory()) await walk(path);
      else if (e.isFile() && hasImageExtension(e.name)) {
        const person = folder === dir ? e.name.replace(/_\d+\.[^.]+$/, '').replace(/\.[^.]+$/, '') : basename(dirname(path));
        out.push({ path, file: relative(dir, path), person });
      }
    }
  };
  await walk(dir);
  return out;
}

/**
 * Runs the pipeline's vision core (FaceAnalyzer: decode, detection with its passes and checks,
 * landmarks, dlib alignment, ResNet embedding — what the detect and embed workers run) over the
 * photos. Results are cached per photo (content hash, pipeline version) in an append-only JSONL
 * file under `cacheDir`, so a second run, or one that was stopped, only embeds what is missing.
 */
export async function embedLibrary(config: FacepipeConfig, settings: DetectSettings, files: readonly LabelledFile[], cacheDir: string, log: (line: string) => void): Promise<{ photos: LibraryPhoto[]; embedVersion: string; cacheFile: string }> {
  const analyzer = await FaceAnalyzer.create({ ...analyzerOptions(config, settings), stages: ['detect', 'embed'] });
  const cacheFile = join(cacheDir, `${analyzer.pipelineVersion.replace(/[^A-Za-z0-9._-]/g, '_')}.jsonl`);
  const cached = new Map<string, Omit<LibraryPhoto, 'file' | 'person'>>();
  if (existsSync(cacheFile)) {
    for (const line of readFileSync(cacheFile, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const p = JSON.parse(line) as LibraryPhoto;
        cached.set(p.sha256, p);
      } catch {
        // a line cut short by a stopped run: embedded again
      }
    }
  }
  mkdirSync(cacheDir, { recursive: true });
  const append = createWriteStream(cacheFile, { flags: 'a' });
  const photos: LibraryPhoto[] = [];
  const todo = files.length;
  let done = 0;
  let fromCache = 0;
  const bar = new ProgressBar('embed', { unit: 'photo' });
  try {
    await mapOrdered(
      files,
      async (f): Promise<LibraryPhoto> => {
        const bytes = await readInputFile(f.path, settings.maxBytes);
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        const hit = cached.get(sha256);
        if (hit) {
          fromCache += 1;
          return { ...hit, file: f.file, person: f.person };
        }
        let photo: LibraryPhoto;
        try {
          const d = await analyzer.describe(bytes);
          photo = {
            file: f.file,
            person: f.person,
            sha256,
            width: d.width,
            height: d.height,
            faces: d.faces.map((face, i) => ({ box: [...face.box], score: face.score, ...(face.quality ? { quality: face.quality } : {}), embedding: Array.from(d.embeddings[i]!, (v) => Math.round(v * 1e6) / 1e6) })),
          };
        } catch (err) {
          photo = { file: f.file, person: f.person, sha256, width: 0, height: 0, faces: [], error: FacepipeError.from(err).code };
        }
        append.write(`${JSON.stringify(photo)}\n`);
        return photo;
      },
      (p) => {
        photos.push(p);
        done += 1;
        bar.update(done, todo);
      },
      { concurrency: settings.concurrency },
    );
  } finally {
    bar.done();
    await new Promise<void>((resolve) => append.end(resolve));
    await analyzer.close();
  }
  log(`${photos.length} photos, ${fromCache} of them from the cache (${cacheFile})`);
  return { photos, embedVersion: analyzer.embedVersion.tag, cacheFile };
}
