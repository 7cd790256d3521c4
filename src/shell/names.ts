// The server's subscriber and talkgroup names: loaded after start and again at each reload, off
// the packet path (the parse runs in a short-lived child process started from a short-lived worker
// thread, src/names/thread.ts), and swapped in whole when a load succeeds. A file that cannot be
// used is logged with its line, and the names loaded before stay in use. Loads queue: a reload
// during a load starts when that one is done.

import type { Logger } from 'pino';
import type { LoadedNames, NamesFiles } from '../names/index.js';
import { loadNamesOffThread } from '../names/thread.js';

export class NamesHolder {
  private store: LoadedNames | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly logger: Logger,
    /** Called with each new store (or null when the config names no files). */
    private readonly onSwap: (store: LoadedNames | null) => void,
  ) {}

  get current(): LoadedNames | null {
    return this.store;
  }

  /** Loads the files (after any load under way); resolves true when the names in use are now theirs. */
  load(files: NamesFiles): Promise<boolean> {
    const next = this.queue.then(() => this.loadNow(files));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async loadNow(files: NamesFiles): Promise<boolean> {
    const subscribers = files.subscribers ?? [];
    const talkgroups = files.talkgroups ?? [];
    if (subscribers.length + talkgroups.length === 0) {
      if (this.store !== null) this.logger.info({ code: 'names.none' }, 'names: no files configured any more; log lines show IDs only');
      this.swap(null);
      return true;
    }
    const t0 = performance.now();
    let store: LoadedNames;
    try {
      store = await loadNamesOffThread({ subscribers, talkgroups });
    } catch (err) {
      const kept = this.store === null ? 'no names are in use' : `keeping the ${this.store.subscriberCount} subscribers and ${this.store.talkgroupCount} talkgroups loaded before`;
      this.logger.error({ code: 'names.load-failed', error: (err as Error).message }, `names not loaded: ${(err as Error).message}; ${kept}`);
      return false;
    }
    const ms = Math.round(performance.now() - t0);
    for (const f of store.files) {
      if (f.skipped === 0) continue;
      this.logger.warn({ code: 'names.skipped', file: f.path, skipped: f.skipped, first: f.warnings }, `names: ${f.path}: ${f.skipped} record(s) skipped, first: ${f.warnings.join('; ')}`);
    }
    this.logger.info(
      { code: 'names.loaded', subscribers: store.subscriberCount, talkgroups: store.talkgroupCount, bytes: store.byteLength(), ms, files: store.files.map((f) => f.path) },
      `names: ${store.subscriberCount} subscribers and ${store.talkgroupCount} talkgroups loaded in ${ms} ms (${(store.byteLength() / 1e6).toFixed(1)} MB)`,
    );
    this.swap(store);
    return true;
  }

  private swap(store: LoadedNames | null): void {
    this.store = store;
    this.onSwap(store);
  }
}
