export * from './actions.js';
export * from './config.js';
export * from './events.js';
export type { CoreDeps } from './context.js';
export { Core, createCore, type PeerView } from './router.js';
