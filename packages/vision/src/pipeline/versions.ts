import { versionTag, type DetectVersionInfo, type EmbedVersionInfo } from '@facepipe/core/light';
import { LANDMARK_REFINE_SCALE } from '../geometry/index.js';
import type { LoadedModelManifest } from '../models/index.js';
import { detectStrategy, type DetectorKind, type DetectPassOptions } from './detector.js';
import { orientationCheckTag, resolveOrientationCheck, type OrientationCheckOptions } from './face-orientation.js';
import { faceScreenTag, resolveFaceScreen, type FaceScreenOptions } from './face-screen.js';

/** Settings that change what the detect stage outputs (and so its version). */
export interface DetectSettings {
  detector: DetectorKind;
  minScore: number;
  minFaceSize: number;
  chipSize: number;
  chipPadding: number;
  /** Extra detector passes. @defaultValue all on */
  passes?: DetectPassOptions;
  /** The landmark-orientation check; false: off. @defaultValue on, default thresholds */
  orientationCheck?: OrientationCheckOptions | false;
  /** NOT_A_FACE screening; false: off. @defaultValue on, default thresholds */
  screen?: FaceScreenOptions | false;
  /** The second landmark pass on a crop centred on the first points. @defaultValue false */
  landmarkRefine?: boolean;
}

/** The checks after detection as a short string for the detect version, e.g. `orient(…)+notface(…)`; '' when all are off. */
export function faceChecksTag(s: Pick<DetectSettings, 'orientationCheck' | 'screen' | 'landmarkRefine'>): string {
  return [
    s.landmarkRefine === true ? `landmarks2(${LANDMARK_REFINE_SCALE})` : '',
    s.orientationCheck === false ? '' : orientationCheckTag(resolveOrientationCheck(s.orientationCheck)),
    s.screen === false ? '' : faceScreenTag(resolveFaceScreen(s.screen)),
  ].filter(Boolean).join('+');
}

export const detectorModel = { ssd: 'ssd_mobilenetv1', tiny: 'tiny_face_detector' } as const;

/** The detect stage's version: detector and landmark model versions plus every setting that changes output. */
export function detectVersionInfo(manifest: LoadedModelManifest, s: DetectSettings): DetectVersionInfo {
  const checks = faceChecksTag(s);
  const info = {
    detector: manifest.models[detectorModel[s.detector]].version,
    landmarks: manifest.models.face_landmark_68.version,
    minScore: s.minScore,
    minFaceSize: s.minFaceSize,
    chip: { size: s.chipSize, padding: s.chipPadding },
    strategy: detectStrategy(s.detector, s.passes),
    ...(checks ? { checks } : {}),
    // The animal check's model: a new object detector changes which faces are kept.
    ...(s.screen !== false && resolveFaceScreen(s.screen).animals ? { screenModel: manifest.models.object_centernet.version } : {}),
  };
  return { tag: versionTag(info), ...info };
}

/** The embed stage's version: the recognition model version and test-time flip. */
export function embedVersionInfo(manifest: LoadedModelManifest, flip: boolean): EmbedVersionInfo {
  const info = { recognition: manifest.models.face_recognition.version, flip };
  return { tag: versionTag(info), ...info };
}

/**
 * The version of a whole result: a result made under another pipeline version is stale and is
 * recomputed (the producer compares it before queueing an image).
 */
export function pipelineVersion(detect: DetectVersionInfo, embed: EmbedVersionInfo): string {
  return versionTag({ detect: detect.tag, embed: embed.tag });
}
