export * from './contract.js';
export * from './manifest.js';
