// The flight recorder's SIGUSR2 dump: written from a copy of the ring in chunks across event-loop
// turns. The file must equal the synchronous (crash-path) dump, and no turn of the event loop may
// be held for long while a full default-size ring (20 000 voice datagrams) is written.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CoreConfig } from '../../src/core/config.js';
import { LOG_FORMAT, LOG_VERSION, type LogHeader } from '../../src/replay/format.js';
import { dumpInChunks, FlightRing } from '../../src/shell/recorder.js';

const header = { format: LOG_FORMAT, version: LOG_VERSION, dmrhub: 'test', epochMs: 0, nowAtEpoch: 0, configPath: null, config: null } as unknown as LogHeader;
const same = (c: CoreConfig): CoreConfig => c;

function fullRing(capacity: number, events: number): FlightRing {
  const ring = new FlightRing(capacity);
  const bytes = new Uint8Array(55);
  for (let i = 0; i < events; i++) {
    bytes[4] = i & 0xff;
    ring.push(i % 10 === 9 ? { kind: 'ticked', now: i } : { kind: 'datagram-received', now: i, socket: 0, address: '127.0.0.1', port: 40000 + (i % 100), bytes });
  }
  return ring;
}

/** Longest gap between event-loop turns while `work` runs, in ms. */
async function longestBlock(work: Promise<void>): Promise<number> {
  let longest = 0;
  let last = performance.now();
  let done = false;
  void work.finally(() => (done = true));
  while (!done) {
    await new Promise((r) => setImmediate(r));
    const t = performance.now();
    longest = Math.max(longest, t - last);
    last = t;
  }
  return longest;
}

describe('flight recorder dump in chunks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmrhub-flight-'));

  it('writes the same file as the synchronous dump, wrapped ring included', async () => {
    const ring = fullRing(1000, 2500);
    ring.dump(join(dir, 'sync.ndjson'), header, same);
    await dumpInChunks(ring, join(dir, 'chunked.ndjson'), header, same, 64);
    const text = readFileSync(join(dir, 'chunked.ndjson'), 'utf8');
    expect(text).toBe(readFileSync(join(dir, 'sync.ndjson'), 'utf8'));
    expect(text.split('\n').filter((l) => l !== '').length).toBe(1001);
    expect(JSON.parse(text.slice(0, text.indexOf('\n'))).partial).toBe(true);
  });

  it('events pushed while the dump runs do not change the file', async () => {
    const ring = fullRing(300, 300);
    const writing = dumpInChunks(ring, join(dir, 'during.ndjson'), header, same, 16);
    ring.push({ kind: 'ticked', now: 999_999 });
    await writing;
    expect(readFileSync(join(dir, 'during.ndjson'), 'utf8')).not.toContain('999999');
  });

  it('never holds the event loop for long with a full default-size ring', async () => {
    const ring = fullRing(20_000, 25_000);
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const block = await longestBlock(dumpInChunks(ring, join(dir, 'full.ndjson'), header, same));
    clearInterval(sampler);
    const syncStart = performance.now();
    ring.dump(join(dir, 'full-sync.ndjson'), header, same);
    const syncMs = performance.now() - syncStart;
    console.log(`flight dump of 20000 events: longest event-loop block ${block.toFixed(1)} ms (synchronous dump: ${syncMs.toFixed(0)} ms); RSS added ${((peak - rss0) / 1e6).toFixed(1)} MB`);
    // One chunk is a few ms of encoding; the bound leaves room for a shared, busy machine.
    expect(block).toBeLessThan(Math.max(50, syncMs / 4));
    expect(readFileSync(join(dir, 'full.ndjson'), 'utf8')).toBe(readFileSync(join(dir, 'full-sync.ndjson'), 'utf8'));
  });
});
