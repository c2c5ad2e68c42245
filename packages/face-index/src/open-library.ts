import { existsSync, readFileSync } from 'node:fs';
import { processAlive } from '@facepipe/core/light';
import { join, resolve } from 'node:path';
import { EmbeddedDatabase, runningEmbeddedDatabase } from './embedded-database.js';
import { FaceIndex } from './face-index.js';
import { FaceLibrary, type FaceLibraryOptions } from './face-library.js';
import type { ClusteringOptions } from './face-clusterer.js';

export interface OpenLibraryOptions {
  /** The data dir of `facepipe run`/`up`. @defaultValue ./.facepipe */
  dataDir?: string;
  env?: Record<string, string | undefined>;
  library?: FaceLibraryOptions;
  clustering?: Partial<ClusteringOptions>;
}

/** A face index opened for one command. */
export interface OpenedLibrary {
  url: string;
  /** Where the URL came from. */
  origin: 'DATABASE_URL' | 'deployment' | 'running' | 'embedded';
  index: FaceIndex;
  library: FaceLibrary;
  close(): Promise<void>;
}

/** The embedded database's folder inside a data dir. */
export function embeddedDatabaseDir(dataDir: string): string {
  return resolve(dataDir, 'db');
}

/** Where a command's library is: a database to connect to, or the embedded one's folder to start. */
export type LibraryLocation = { origin: 'DATABASE_URL' | 'deployment' | 'running'; url: string } | { origin: 'embedded'; directory: string; exists: boolean };

/**
 * Where {@link openLibrary} finds the library, starting nothing: `DATABASE_URL` when set; else the
 * database of the local deployment running on `dataDir` (its `deployment.json`), else the embedded
 * database of a live `facepipe run` on it (`db/facepipe-server.json`), else the embedded
 * database's folder under `<dataDir>/db` (`exists`: it holds a database from an earlier run).
 */
export function locateLibrary(dataDir: string, env: Record<string, string | undefined> = process.env): LibraryLocation {
  const dir = resolve(dataDir);
  if (env.DATABASE_URL) return { origin: 'DATABASE_URL', url: env.DATABASE_URL };
  const deployed = deploymentDatabaseUrl(dir);
  if (deployed) return { origin: 'deployment', url: deployed };
  const running = runningEmbeddedDatabase(embeddedDatabaseDir(dir));
  if (running) return { origin: 'running', url: running };
  const directory = embeddedDatabaseDir(dir);
  return { origin: 'embedded', directory, exists: existsSync(join(directory, 'pgdata', 'PG_VERSION')) };
}

/**
 * Opens the library a command should work on ({@link locateLibrary}); the embedded database is
 * started in this process for the command's duration (and created when missing).
 */
export async function openLibrary(options: OpenLibraryOptions = {}): Promise<OpenedLibrary> {
  const location = locateLibrary(options.dataDir ?? '.facepipe', options.env ?? process.env);
  const origin = location.origin;
  let url: string;
  let embedded: EmbeddedDatabase | undefined;
  if (location.origin === 'embedded') {
    embedded = await EmbeddedDatabase.start({ directory: location.directory });
    url = embedded.url;
  } else {
    url = location.url;
  }
  let index: FaceIndex;
  try {
    index = await FaceIndex.connect({ url, clustering: options.clustering });
  } catch (err) {
    await embedded?.close();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    url,
    origin,
    index,
    library: new FaceLibrary(index, options.library),
    close: () => {
      closing ??= index.close().then(() => embedded?.close());
      return closing;
    },
  };
}

/** DATABASE_URL from `<dataDir>/deployment.json` (written by `facepipe up`), if present. */
export function deploymentDatabaseUrl(dataDir: string): string | undefined {
  try {
    const doc = JSON.parse(readFileSync(join(dataDir, 'deployment.json'), 'utf8')) as { state?: unknown; pid?: unknown; DATABASE_URL?: unknown; env?: { DATABASE_URL?: unknown } };
    // Only a deployment that is up and whose process lives (devstack's DeploymentRecord).
    if (doc.state !== undefined && doc.state !== 'ready') return undefined;
    if (typeof doc.pid === 'number' && !processAlive(doc.pid)) return undefined;
    const url = doc.DATABASE_URL ?? doc.env?.DATABASE_URL;
    return typeof url === 'string' && url !== '' ? url : undefined;
  } catch {
    return undefined;
  }
}
