export * from './bytes.js';
export * from './hbp/index.js';
