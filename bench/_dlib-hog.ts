/**
 * The dlib HOG baseline for the benchmarks: builds bench/dlib-hog/hog-faces.cpp against Debian's
 * libdlib-dev (once, cached by the source's hash under node_modules/.cache) and runs it as one
 * long-lived child process that takes image paths and answers with boxes, 68 points and timings.
 * `DlibHog.start()` resolves to undefined, with the reason, where dlib is not installed
 * (`apt-get install libdlib-dev libdlib-data`).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SOURCE = fileURLToPath(new URL('./dlib-hog/hog-faces.cpp', import.meta.url));
const PREDICTOR = '/usr/share/dlib/shape_predictor_68_face_landmarks.dat';
const CACHE = fileURLToPath(new URL('../node_modules/.cache/facepipe-bench/', import.meta.url));

export interface HogFace {
  box: [number, number, number, number];
  score: number;
  points: [number, number][];
}

export interface HogResult {
  file: string;
  width: number;
  height: number;
  decodeMs: number;
  /** pyramid_up + the HOG detector on the doubled image. */
  detectMs: number;
  landmarksMs: number;
  faces: HogFace[];
}

export class DlibHog {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: Interface;
  readonly #waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  #closed = false;

  private constructor(child: ChildProcessWithoutNullStreams) {
    this.#child = child;
    this.#lines = createInterface({ input: child.stdout });
    this.#lines.on('line', (line) => this.#waiting.shift()?.resolve(line));
    child.once('exit', (code) => {
      for (const w of this.#waiting.splice(0)) w.reject(new Error(`dlib HOG baseline exited with ${code}`));
    });
  }

  /** The shape predictor's model file (Debian's libdlib-data). */
  static readonly predictor = PREDICTOR;

  /**
   * Builds the baseline program if needed; its path, or `{ missing }` saying why it cannot run
   * here. Usage: `<binary> <predictor.dat> <upsample>`, image paths on stdin.
   */
  static build(): { binary: string } | { missing: string } {
    if (!existsSync('/usr/include/dlib/image_processing/frontal_face_detector.h')) return { missing: 'dlib headers (apt-get install libdlib-dev)' };
    if (!existsSync(PREDICTOR)) return { missing: `${PREDICTOR} (apt-get install libdlib-data)` };
    const hash = createHash('sha256').update(readFileSync(SOURCE)).digest('hex').slice(0, 12);
    const binary = join(CACHE, `hog-faces-${hash}`);
    if (!existsSync(binary)) {
      mkdirSync(CACHE, { recursive: true });
      // libdlib.so needs BLAS/LAPACK; Debian's dlib-1.pc names .so links that only the -dev
      // packages of those provide, so link the runtime libraries by soname.
      const built = spawnSync('g++', ['-O3', '-march=native', '-std=c++17', '-o', binary, SOURCE, '-ldlib', '-lpthread', '-l:libblas.so.3', '-l:liblapack.so.3'], { encoding: 'utf8' });
      if (built.status !== 0) return { missing: `a build of ${SOURCE}: ${built.stderr.trim().split('\n').slice(-3).join(' ')}` };
    }
    return { binary };
  }

  /** Builds (if needed) and starts the baseline; `{ missing }` says why it cannot run here. */
  static async start(upsample = 1): Promise<DlibHog | { missing: string }> {
    const built = DlibHog.build();
    if ('missing' in built) return built;
    const { binary } = built;
    const child = spawn(binary, [PREDICTOR, String(upsample)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const hog = new DlibHog(child);
    const ready = await hog.#next();
    if (!ready.includes('"ready"')) throw new Error(`dlib HOG baseline did not start: ${ready}`);
    return hog;
  }

  #next(): Promise<string> {
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /** Detects faces and their 68 points in the image at `path`. */
  async detect(path: string): Promise<HogResult> {
    const answer = this.#next();
    this.#child.stdin.write(`${path}\n`);
    const parsed = JSON.parse(await answer) as HogResult & { error?: string };
    if (parsed.error) throw new Error(`dlib could not read ${path}: ${parsed.error}`);
    return parsed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#child.stdin.end();
    this.#lines.close();
    if (this.#child.exitCode === null) await new Promise((resolve) => this.#child.once('exit', resolve));
  }
}
