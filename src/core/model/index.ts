// The core's data, types only: what sessions, streams, subscriptions, links, playouts and timers
// hold. Behaviour lives in the folder that owns each table; any core file may import these.

export type * from './session.js';
export type * from './stream.js';
export type * from './subscription.js';
export type * from './link.js';
export type * from './uplink.js';
export type * from './dial.js';
export type * from './echo.js';
export type * from './playout.js';
export type * from './heard.js';
export type * from './deadline.js';
export type * from './target.js';
export type * from './acl.js';
export type * from './credential.js';
