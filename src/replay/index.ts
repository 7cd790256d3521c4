export * from './format.js';
export * from './render.js';
export * from './runner.js';
export * from './decode.js';
