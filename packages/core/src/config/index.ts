export { envSchema, type Env } from './env-schema.js';
export { loadConfig, ConfigError, type FacepipeConfig } from './facepipe-config.js';
export { parseDetectPasses, DETECT_PASS_NAMES, type DetectPasses } from './detect-passes.js';
export { parseNotAFaceChecks, NOT_A_FACE_CHECK_NAMES, type NotAFaceChecks } from './not-a-face-checks.js';
export { redactUrl } from './redact.js';
