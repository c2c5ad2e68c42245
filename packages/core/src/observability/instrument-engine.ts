import type { DetectEngine } from '../engines/index.js';
import type { FacepipeMetrics } from './facepipe-metrics.js';

/**
 * The detect engine with each image's vision timings (decode, detect, landmarks, align, as the
 * analyzer measures them) recorded as `facepipe_inference_duration_seconds{step}`.
 */
export function instrumentDetectEngine<E extends DetectEngine>(engine: E, metrics: Pick<FacepipeMetrics, 'recordInference'>): E {
  const analyze: DetectEngine['analyze'] = async (bytes) => {
    const analysis = await engine.analyze(bytes);
    metrics.recordInference('decode', analysis.timings.decodeMs);
    metrics.recordInference('detect', analysis.timings.detectMs);
    metrics.recordInference('landmarks', analysis.timings.landmarksMs);
    metrics.recordInference('align', analysis.timings.alignMs);
    return analysis;
  };
  return Object.assign(Object.create(engine) as E, { analyze, version: engine.version, close: () => engine.close() });
}
