export * from './actions.js';
export * from './config.js';
export * from './inputs.js';
export type { CoreDeps } from './effects.js';
export { Core, createCore, type PeerView } from './router.js';
export type { Credential } from './model/credential.js';
