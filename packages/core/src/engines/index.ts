export type { DetectEngine, ImageAnalysis } from './detect-engine.js';
export type { EmbedEngine } from './embed-engine.js';
