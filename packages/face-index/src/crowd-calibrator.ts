import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { countCrowd, type CrowdCalibrationOptions, type PersonCrowd } from './naming/crowd-calibration.js';
import type { CrowdRepository, SampledFace } from './crowd-repository.js';
import type { FaceRepository } from './face-repository.js';

/** Faces counted between two yields to the event loop. */
const CHUNK = 256;

/**
 * Keeps each person's crowd (naming/crowd-calibration.ts) counted for the naming rule: read from
 * `person_crowds`, and counted again on a fresh library sample when missing, when the person's
 * examples changed, or when the library has doubled since. Only the people asked for (the ones the
 * rule is deciding about) are counted, so a large gallery is never counted all at once; faces
 * already theirs are left out of their count.
 */
export class CrowdCalibrator {
  constructor(readonly options: CrowdCalibrationOptions) {}

  /** `references`: every person's examples of the version as FaceRepository.examplesByPerson has them (their keys tell a changed set). */
  async crowdsOf(r: { crowds: CrowdRepository; faces: FaceRepository }, embedVersion: string, personIds: Iterable<string>, references: ReadonlyMap<string, { key: string }>): Promise<Map<string, PersonCrowd>> {
    const ids = [...new Set(personIds)];
    const out = new Map<string, PersonCrowd>();
    if (this.options.crowdWeight === 0 || ids.length === 0) return out;
    const stored = await r.crowds.ofVersion(embedVersion, ids);
    const size = await r.crowds.librarySize();
    let sample: SampledFace[] | undefined;
    for (const id of ids) {
      const key = references.get(id)?.key;
      if (key === undefined) continue;
      const known = stored.get(id);
      if (known && known.examplesKey === key && size < 2 * Math.max(1, known.libraryFaces)) {
        out.set(id, { sampled: known.sampled, inBand: known.inBand });
        continue;
      }
      sample ??= await r.crowds.sample(embedVersion, this.options.crowdSample, size);
      const examples = (await r.faces.referenceFaces(id)).filter((f) => f.embedVersion === embedVersion).map((f) => f.embedding);
      // The person's own faces are not their crowd: a person with thousands of photos would
      // otherwise count their own harder ones (turned, blurred) as look-alikes.
      const others = sample.filter((f) => f.personId !== id).map((f) => f.embedding);
      const crowd = { sampled: 0, inBand: 0 };
      for (let at = 0; at < others.length; at += CHUNK) {
        const part = countCrowd(others.slice(at, at + CHUNK), examples, this.options);
        crowd.sampled += part.sampled;
        crowd.inBand += part.inBand;
        await yieldToEventLoop();
      }
      await r.crowds.save(id, embedVersion, { ...crowd, examplesKey: key, libraryFaces: size });
      out.set(id, crowd);
    }
    return out;
  }
}
