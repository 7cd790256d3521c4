export * from './bytes.js';
export * from './hbp/index.js';
export * from './obp/index.js';
