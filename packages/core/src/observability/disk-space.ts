import { stat, statfs } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Gauge, type Registry } from 'prom-client';

/** How full one data dir's file system is. */
export type DiskState = 'ok' | 'low' | 'full';

/** A folder facepipe writes to (the data dir, its S3 store, Redis's append-only file…) and its warning level. */
export interface WatchedDir {
  path: string;
  /** Free space under which the dashboard warns ("low"). */
  warnFreeBytes: number;
}

export interface DiskThresholds {
  /** Free space under which a dir is "low": a warning before it fills. @defaultValue 1 GiB */
  warnFreeBytes: number;
  /** Free space under which a dir counts as full: admission pauses, /readyz fails. @defaultValue 16 MiB */
  fullFreeBytes: number;
}

/** One dir's reading. */
export interface DiskReading {
  path: string;
  state: DiskState;
  freeBytes: number;
  totalBytes: number;
  warnFreeBytes: number;
  /** Set when the dir could not be read (missing, no permission). */
  error?: string;
}

/** The state for `freeBytes` left (pure). Full below `fullFreeBytes` or at 0; low below `warnFreeBytes`. */
export function diskState(freeBytes: number, warnFreeBytes: number, fullFreeBytes: number): DiskState {
  if (freeBytes <= 0 || freeBytes < fullFreeBytes) return 'full';
  if (freeBytes < warnFreeBytes) return 'low';
  return 'ok';
}

/**
 * Parses FACEPIPE_DATA_DIRS: folders separated by commas, each optionally `=<MiB>` for its own
 * warning level (`/data,/data/s3=4096`). Pure; throws on a bad level.
 */
export function parseWatchedDirs(value: string | undefined, warnFreeBytes: number): WatchedDir[] {
  if (!value) return [];
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => {
      const eq = part.lastIndexOf('=');
      if (eq <= 0) return { path: resolve(part), warnFreeBytes };
      const mib = Number(part.slice(eq + 1));
      if (!Number.isFinite(mib) || mib < 0) throw new Error(`FACEPIPE_DATA_DIRS: "${part.slice(eq + 1)}" is not a number of MiB (in "${part}")`);
      return { path: resolve(part.slice(0, eq)), warnFreeBytes: Math.round(mib * 1024 * 1024) };
    });
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MiB`;

/** A person-readable line for a reading that is not ok ("disk full: /data/s3 has 0.0 MiB free …"). */
export function describeDisk(r: DiskReading): string {
  if (r.error) return `data dir ${r.path} cannot be checked: ${r.error}`;
  if (r.state === 'full') return `disk full: ${r.path} has ${mib(r.freeBytes)} free of ${mib(r.totalBytes)}; writes wait and retry — free space there and processing goes on`;
  return `disk space low: ${r.path} has ${mib(r.freeBytes)} free of ${mib(r.totalBytes)} (warning under ${mib(r.warnFreeBytes)})`;
}

/** Free and total bytes of the file system holding `path` (for unprivileged users: `bavail`). */
export async function freeSpace(path: string): Promise<{ freeBytes: number; totalBytes: number }> {
  const s = await statfs(path);
  return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
}

/**
 * Watches the free space of the folders facepipe writes to — one reading per file system, the
 * first folder named for it — and exports `facepipe_data_dir_free_bytes{dir}`,
 * `facepipe_disk_low{dir}` and `facepipe_disk_full{dir}`. The service reads it for the
 * dashboard's banners, /readyz and pausing uploads. A statfs costs microseconds; readings are
 * cached for `maxAgeMs`.
 */
export class DiskSpaceMonitor {
  readonly #dirs: WatchedDir[];
  readonly #fullFreeBytes: number;
  readonly #maxAgeMs: number;
  #last: { at: number; readings: Promise<DiskReading[]> } | undefined;

  constructor(dirs: WatchedDir[], options: { fullFreeBytes: number; maxAgeMs?: number }) {
    this.#dirs = dirs;
    this.#fullFreeBytes = options.fullFreeBytes;
    this.#maxAgeMs = options.maxAgeMs ?? 1000;
  }

  /** Exports the readings to `registry` (the service's /metrics); once per registry. */
  exportMetrics(registry: Registry): void {
    if (this.#dirs.length === 0) return;
    const registers = [registry];
    const read = () => this.readings();
    new Gauge({
      name: 'facepipe_data_dir_free_bytes',
      help: 'Free bytes on the file system of each data dir facepipe writes to',
      labelNames: ['dir'],
      registers,
      async collect() {
        for (const r of await read()) if (!r.error) this.set({ dir: r.path }, r.freeBytes);
      },
    });
    new Gauge({
      name: 'facepipe_disk_low',
      help: '1 when a data dir has less free space than its warning level (FACEPIPE_DISK_WARN_FREE_MB)',
      labelNames: ['dir'],
      registers,
      async collect() {
        for (const r of await read()) this.set({ dir: r.path }, r.state === 'ok' ? 0 : 1);
      },
    });
    new Gauge({
      name: 'facepipe_disk_full',
      help: '1 when a data dir is full (under FACEPIPE_DISK_FULL_FREE_MB): writes wait and retry, admission pauses',
      labelNames: ['dir'],
      registers,
      async collect() {
        for (const r of await read()) this.set({ dir: r.path }, r.state === 'full' ? 1 : 0);
      },
    });
  }

  get watching(): readonly WatchedDir[] {
    return this.#dirs;
  }

  /** One reading per file system among the watched dirs (cached for `maxAgeMs`). */
  readings(): Promise<DiskReading[]> {
    const now = performance.now();
    if (this.#last && now - this.#last.at < this.#maxAgeMs) return this.#last.readings;
    const readings = this.#read();
    this.#last = { at: now, readings };
    return readings;
  }

  /** The dirs that are full, or an empty list. */
  async full(): Promise<DiskReading[]> {
    return (await this.readings()).filter((r) => r.state === 'full');
  }

  async #read(): Promise<DiskReading[]> {
    const seen = new Set<number>();
    const out: DiskReading[] = [];
    for (const dir of this.#dirs) {
      try {
        const { dev } = await stat(dir.path);
        if (seen.has(dev)) continue;
        seen.add(dev);
        const { freeBytes, totalBytes } = await freeSpace(dir.path);
        out.push({ path: dir.path, state: diskState(freeBytes, dir.warnFreeBytes, this.#fullFreeBytes), freeBytes, totalBytes, warnFreeBytes: dir.warnFreeBytes });
      } catch (err) {
        out.push({ path: dir.path, state: 'ok', freeBytes: 0, totalBytes: 0, warnFreeBytes: dir.warnFreeBytes, error: (err as NodeJS.ErrnoException).code ?? String(err) });
      }
    }
    return out;
  }
}
