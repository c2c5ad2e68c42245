export { startEmbeddedS3, type EmbeddedS3, type EmbeddedS3Options } from './embedded/embedded-s3.js';
export { startLocalRedis, freePort, redisMissingMessage, type LocalRedis } from './embedded/local-redis.js';
