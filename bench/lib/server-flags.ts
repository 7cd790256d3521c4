// The Node flags the server runs with. The same list is in package.json ("start") and in the
// shebang of src/main.ts (the `dmrhub` command) and in systemd/dmrhub.service;
// test/unit/server-flags.test.ts keeps them all equal.
//  --max-semi-space-size=1  a 1 MB young generation: a login storm's short-lived objects are
//                           collected at once instead of filling a 16 MB nursery.
//  --optimize-for-size      V8 favours memory over speed (smaller heap growth steps, fewer caches);
//                           measured: about 8 MB less RSS at 2000 peers with reporting on, and no
//                           change in the saturation ratio or the paced p99 (BENCHMARKS.md).
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--optimize-for-size'];
