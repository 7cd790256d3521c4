export * from './kinds.js';
export * from './messages.js';
export * from './rptc.js';
export * from './dmrd.js';
export * from './options.js';
