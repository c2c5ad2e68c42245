export { envSchema, type Env } from './env-schema.js';
export { loadConfig, ConfigError, type FacepipeConfig } from './facepipe-config.js';
