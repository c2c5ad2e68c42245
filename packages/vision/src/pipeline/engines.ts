import type { DetectEngine, EmbedEngine, FacepipeConfig, ImageAnalysis, NotAFaceChecks } from '@facepipe/core/light';
import { loadModelManifest } from '../models/index.js';
import { CHIP_PADDING, CHIP_SIZE, decodeChips, encodeChipsView, rawChips } from './chips.js';
import { FaceAnalyzer } from './face-analyzer.js';
import type { FaceScreenOptions } from './face-screen.js';
import { detectVersionInfo, embedVersionInfo, pipelineVersion } from './versions.js';

/** FACEPIPE_NOT_A_FACE_CHECKS as the analyzer's screen settings (default thresholds). */
export function screenFromChecks(checks: NotAFaceChecks): FaceScreenOptions | false {
  if (!checks.animal && !checks.mirror) return false;
  return { mirror: checks.mirror, ...(checks.animal ? {} : { animals: false }) };
}

/** The FaceAnalyzer settings a deployment's configuration gives (the workers and search by photo use the same). */
export function analyzerOptionsFromConfig(config: FacepipeConfig) {
  return {
    detector: config.detect.detector,
    minScore: config.detect.minScore,
    minFaceSize: config.detect.minFaceSize,
    passes: config.detect.passes,
    screen: screenFromChecks(config.detect.notAFace),
    maxPixels: config.detect.maxPixels,
    maxBytes: config.detect.maxBytes,
    flip: config.embed.flip,
    executionProvider: config.inference.executionProvider,
    intraOpThreads: config.inference.intraOpThreads,
    intraOpSpinning: config.inference.intraOpSpinning,
    inferenceThreads: config.inference.threads,
    maxEmbedBatch: Math.max(config.embed.batchSize, 1),
  };
}

/** The detect stage's engine: the analyzer's detect half, with the chips as raw RGB to store. */
export async function createDetectEngine(config: FacepipeConfig): Promise<DetectEngine & { analyzer: FaceAnalyzer }> {
  const analyzer = await FaceAnalyzer.create({ ...analyzerOptionsFromConfig(config), stages: ['detect'] });
  return {
    analyzer,
    version: analyzer.detectVersion,
    async analyze(bytes: Uint8Array): Promise<ImageAnalysis> {
      const a = await analyzer.analyze(bytes);
      return {
        width: a.width,
        height: a.height,
        format: a.format,
        orientation: a.orientation,
        faces: a.faces,
        chipsRgb: a.faces.length > 0 ? Buffer.from(a.chips.buffer, a.chips.byteOffset, a.chips.byteLength) : null,
        timings: a.timings,
        rejected: a.rejected,
        passes: a.passes,
      };
    },
    close: () => analyzer.close(),
  };
}

/** The embed stage's engine: the analyzer's embed half. */
export async function createEmbedEngine(config: FacepipeConfig): Promise<EmbedEngine & { analyzer: FaceAnalyzer }> {
  const analyzer = await FaceAnalyzer.create({ ...analyzerOptionsFromConfig(config), stages: ['embed'] });
  return {
    analyzer,
    version: analyzer.embedVersion,
    chipSize: CHIP_SIZE,
    embed: (chips, count) => analyzer.embed(chips, count),
    decodeChips: async (stored, format) => (format === 'rgb' ? rawChips(stored) : decodeChips(stored)),
    encodeChipsView: (chips, count) => encodeChipsView(chips, count),
    close: () => analyzer.close(),
  };
}

/**
 * The versions a deployment with this config produces, for the producer to decide whether a
 * stored result is current (loads the manifest only, no sessions).
 */
export async function configuredVersions(config: FacepipeConfig, modelsDir?: string) {
  const manifest = await loadModelManifest(modelsDir);
  const detect = detectVersionInfo(manifest, {
    detector: config.detect.detector,
    minScore: config.detect.minScore,
    minFaceSize: config.detect.minFaceSize,
    passes: config.detect.passes,
    screen: screenFromChecks(config.detect.notAFace),
    chipSize: CHIP_SIZE,
    chipPadding: CHIP_PADDING,
  });
  const embed = embedVersionInfo(manifest, config.embed.flip);
  return { detect, embed, pipeline: pipelineVersion(detect, embed) };
}
