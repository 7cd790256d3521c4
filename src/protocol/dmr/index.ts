// DMR air-interface pieces needed by a relay: bit helpers, the FEC codes, full and embedded LC, and the
// per-stream LC rewriter. Pure: no Node or DOM APIs.
export * from './bits.js';
export * from './hamming.js';
export * from './rs129.js';
export * from './bptc196.js';
export * from './embedded-lc.js';
export * from './lc.js';
export * from './rewrite.js';
export * from './emb.js';
export * from './slot-type.js';
export * from './voice.js';
export * from './ambe-pack.js';
