// The fuzz harness's worker threads start here: the TypeScript loader (tsx) that `npm run fuzz`
// gives the main thread is not passed on to worker threads, so each registers it itself.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
