export * from './models/index.js';
export * from './image/index.js';
export * from './geometry/index.js';
export * from './classify/index.js';
export * from './pipeline/index.js';
export * from './eval/index.js';
