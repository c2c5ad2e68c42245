export * from './errors/index.js';
export * from './config/index.js';
export * from './logging/index.js';
export * from './storage/index.js';
export * from './queue/index.js';
export * from './batch/index.js';
export * from './results/index.js';
