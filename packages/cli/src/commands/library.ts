import { resolve } from 'node:path';
import { loadConfig, S3ObjectStore } from '@facepipe/core';
import { locateLibrary, openLibrary, syncResultDocuments, type OpenedLibrary } from '@facepipe/face-index';
import { NoDeploymentError, runningDeployment } from '@facepipe/devstack';

/** The `--data-dir` option of the library commands. */
export const libraryDataDirOption = { 'data-dir': { type: 'string', default: '.facepipe' } } as const;

export const libraryDataDirUsage = `  --data-dir <dir>      the library to use when DATABASE_URL is not set: the database of the local
                        deployment running there, else the one a stopped deployment (facepipe up,
                        facepipe run) left there (default ./.facepipe)`;

/**
 * Fails, as every command without a deployment does, when `dataDir` has no library: nothing
 * running there, no DATABASE_URL, and no database left by an earlier run (an empty one is never
 * created in the current folder by a command that only reads or names).
 */
export function requireLibrary(dataDir: string): void {
  const location = locateLibrary(resolve(dataDir));
  if (location.origin === 'embedded' && !location.exists) throw new NoDeploymentError(resolve(dataDir), 'DATABASE_URL');
}

/**
 * Runs `fn` on the library of `dataDir` (or DATABASE_URL), with the tolerance and clustering
 * settings of the environment, and always closes it. {@link requireLibrary} first.
 */
export async function withLibrary<T>(dataDir: string, fn: (library: OpenedLibrary) => Promise<T>): Promise<T> {
  requireLibrary(dataDir);
  const config = loadConfig();
  const library = await openLibrary({
    dataDir: resolve(dataDir),
    library: { tolerance: config.classify.tolerance },
    clustering: { maxDistance: config.database.clusterMaxDistance, minFaces: config.database.clusterMinFaces, maxLinkage: config.database.clusterMaxLinkage },
  });
  if (library.origin === 'embedded') process.stderr.write(`facepipe: no deployment is running in ${resolve(dataDir)}; using the library it keeps there\n`);
  try {
    return await fn(library);
  } finally {
    await library.close();
  }
}

/**
 * Rewrites the result documents (S3) of images whose names changed, when the deployment's
 * storage can be reached (S3_ENDPOINT/REDIS_URL set, or a local deployment running in
 * `dataDir`); returns how many were rewritten, or undefined when no storage was reachable.
 */
export async function syncResults(dataDir: string, library: OpenedLibrary, imageIds: readonly string[]): Promise<number | undefined> {
  if (imageIds.length === 0) return 0;
  const record = process.env.S3_ENDPOINT || process.env.REDIS_URL ? undefined : runningDeployment(resolve(dataDir));
  if (!record && !process.env.S3_ENDPOINT && !process.env.REDIS_URL) return undefined;
  const config = loadConfig({ ...process.env, ...(record?.env ?? {}) });
  const store = S3ObjectStore.fromConfig(config.s3);
  try {
    return await syncResultDocuments(store, library.index, imageIds);
  } finally {
    await store.close();
  }
}
