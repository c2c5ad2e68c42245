import { availableParallelism } from 'node:os';
import type { FacepipeConfig } from '@facepipe/core/light';
import { analyzerOptionsFromConfig, type DetectorKind, type FaceAnalyzerOptions } from '@facepipe/vision';
import { UsageError } from '../commands/command.js';

/** `parseArgs` options shared by the commands that detect faces. */
export const detectFlagOptions = {
  detector: { type: 'string' },
  'min-score': { type: 'string' },
  'min-face-size': { type: 'string' },
  'max-pixels': { type: 'string' },
  concurrency: { type: 'string' },
} as const;

/** The values of {@link detectFlagOptions} as `parseArgs` returns them. */
export interface DetectFlags {
  detector?: string;
  'min-score'?: string;
  'min-face-size'?: string;
  'max-pixels'?: string;
  concurrency?: string;
}

/** Usage lines for {@link detectFlagOptions}. */
export const detectFlagsUsage = `  --detector ssd|tiny     face detector (default FACEPIPE_DETECTOR, ssd)
  --min-score <0..1>      minimum detection score (default FACEPIPE_DETECT_MIN_SCORE)
  --min-face-size <px>    smallest face kept, shorter box side in pixels (default FACEPIPE_MIN_FACE_SIZE)
  --max-pixels <n>        largest image accepted, width × height (default FACEPIPE_MAX_PIXELS)
  --concurrency <n>       images in flight at once (default FACEPIPE_DETECT_CONCURRENCY)`;

/** A number from a flag, or a UsageError naming the flag. */
export function numberFlag(name: string, text: string, range: { min: number; max: number; integer?: boolean }): number {
  const value = Number(text);
  const ok = text.trim() !== '' && Number.isFinite(value) && value >= range.min && value <= range.max && (!range.integer || Number.isInteger(value));
  if (!ok) throw new UsageError(`--${name} must be ${range.integer ? 'an integer' : 'a number'} from ${range.min} to ${range.max}, got "${text}"`);
  return value;
}

/** A comma-separated list of numbers from a flag. */
export function numberListFlag(name: string, text: string, range: { min: number; max: number; integer?: boolean }): number[] {
  const values = text.split(',').map((t) => numberFlag(name, t, range));
  return [...new Set(values)].sort((a, b) => a - b);
}

/** A detector name from a flag. */
export function detectorFlag(text: string): DetectorKind {
  if (text !== 'ssd' && text !== 'tiny') throw new UsageError(`--detector must be ssd or tiny, got "${text}"`);
  return text;
}

/** Detection settings: the environment's (through {@link FacepipeConfig}), overridden by flags. */
export interface DetectSettings {
  detector: DetectorKind;
  minScore: number;
  minFaceSize: number;
  maxPixels: number;
  maxBytes: number;
  concurrency: number;
  /** Inference worker threads of this process. */
  inferenceThreads: number;
}

/** Most inference workers a one-off command starts by itself (each holds its own sessions). */
const MAX_COMMAND_INFERENCE_THREADS = 4;

/**
 * Settings for a command that runs the models in its own process (`detect`, `verify`, the
 * evaluations). Unlike a worker pool, which scales by adding processes of one inference thread
 * each, such a command is alone: unless FACEPIPE_INFERENCE_THREADS is set, it runs one inference
 * worker per core (up to 4), with two images in flight per worker unless
 * FACEPIPE_DETECT_CONCURRENCY or --concurrency says otherwise.
 */
export function resolveDetectSettings(config: FacepipeConfig, flags: DetectFlags, env: NodeJS.ProcessEnv = process.env): DetectSettings {
  const inferenceThreads = env.FACEPIPE_INFERENCE_THREADS !== undefined ? config.inference.threads : Math.min(MAX_COMMAND_INFERENCE_THREADS, availableParallelism());
  const defaultConcurrency = env.FACEPIPE_DETECT_CONCURRENCY !== undefined ? config.detect.concurrency : Math.max(config.detect.concurrency, 2 * inferenceThreads);
  return {
    inferenceThreads,
    detector: flags.detector !== undefined ? detectorFlag(flags.detector) : config.detect.detector,
    // Same ranges as the environment schema (packages/core/src/config/env-schema.ts).
    minScore: flags['min-score'] !== undefined ? numberFlag('min-score', flags['min-score'], { min: 0.01, max: 0.99 }) : config.detect.minScore,
    minFaceSize: flags['min-face-size'] !== undefined ? numberFlag('min-face-size', flags['min-face-size'], { min: 0, max: 10_000, integer: true }) : config.detect.minFaceSize,
    maxPixels: flags['max-pixels'] !== undefined ? numberFlag('max-pixels', flags['max-pixels'], { min: 1, max: 1_000_000_000, integer: true }) : config.detect.maxPixels,
    maxBytes: config.detect.maxBytes,
    concurrency: flags.concurrency !== undefined ? numberFlag('concurrency', flags.concurrency, { min: 1, max: 256, integer: true }) : defaultConcurrency,
  };
}

/** FaceAnalyzer options: the deployment's (`analyzerOptionsFromConfig`) with these settings' detection values and inference workers. */
export function analyzerOptions(config: FacepipeConfig, s: DetectSettings): FaceAnalyzerOptions {
  return {
    ...analyzerOptionsFromConfig(config),
    detector: s.detector,
    minScore: s.minScore,
    minFaceSize: s.minFaceSize,
    maxPixels: s.maxPixels,
    maxBytes: s.maxBytes,
    inferenceThreads: s.inferenceThreads,
  };
}
