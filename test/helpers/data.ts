import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The folder of shared test photos. One setting: FACEPIPE_TEST_DATA (default ../shared/data,
 * relative to the repository root). Never copied into the repo.
 */
export const testDataDir = resolve(repoRoot, process.env.FACEPIPE_TEST_DATA ?? '../shared/data');

/** Absolute path of a file or folder inside the test data. */
export function dataPath(...parts: string[]): string {
  return resolve(testDataDir, ...parts);
}

/**
 * For `test(name, { skip: missingData('recognition/lfw_dev') }, ...)`: a skip message naming what is
 * missing, or false when every path exists.
 */
export function missingData(...relPaths: string[]): string | false {
  const missing = relPaths.filter((p) => !existsSync(dataPath(p)));
  if (missing.length === 0) return false;
  return `test data missing: ${missing.map((p) => dataPath(p)).join(', ')} (set FACEPIPE_TEST_DATA to the shared data folder)`;
}

/**
 * Real animal photos (no human face) for the NOT_A_FACE animal check: not in the shared data, so
 * `bash scripts/animal-photos.sh DIR` unpacks them from Debian's packages (CI runs it). One
 * setting: FACEPIPE_ANIMAL_PHOTOS (default node_modules/.cache/facepipe/animal-photos).
 */
export const animalPhotosDir = resolve(repoRoot, process.env.FACEPIPE_ANIMAL_PHOTOS ?? 'node_modules/.cache/facepipe/animal-photos');

/** Like {@link missingData}, for files of {@link animalPhotosDir}. */
export function missingAnimalPhotos(...names: string[]): string | false {
  const missing = names.filter((n) => !existsSync(resolve(animalPhotosDir, n)));
  if (missing.length === 0) return false;
  return `animal photos missing: ${missing.map((n) => resolve(animalPhotosDir, n)).join(', ')} (run: bash scripts/animal-photos.sh ${animalPhotosDir})`;
}
