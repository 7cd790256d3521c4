// The shell's overload guard over real UDP sockets on 127.0.0.1: the fan-out budget per turn, the
// probe that measures the receive wait, falling behind and draining. Time is a test clock, so what
// the guard concludes from a wait does not depend on the machine.

import dgram from 'node:dgram';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Target } from '../../src/core/actions.js';
import { encodeDmrd } from '../../src/protocol/index.js';
import { OverloadGuard, PROBE_LEN, READ_BATCH, type OverloadSettings } from '../../src/shell/overload.js';
import { UdpTransport } from '../../src/shell/transport.js';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const quiet = pino({ level: 'silent' });

interface Rig {
  transport: UdpTransport;
  guard: OverloadGuard;
  port: number;
  clock: { now: number };
  changes: [boolean, number][];
  read: Buffer[];
}

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const x of open.splice(0)) await x.close();
});

async function rig(settings: Partial<OverloadSettings> = {}): Promise<Rig> {
  const clock = { now: 1000 };
  const changes: [boolean, number][] = [];
  const read: Buffer[] = [];
  let transport: UdpTransport | null = null;
  const guard = new OverloadGuard(
    { fanoutPerTurn: 10_000, maxReceiveWaitMs: 250, sendQueueBytes: 1 << 20, ...settings },
    () => clock.now,
    (behind, ms) => changes.push([behind, ms]),
    (socket, probe) => transport!.sendProbe(socket, probe),
  );
  transport = new UdpTransport(quiet, (_s, bytes) => read.push(bytes), null, guard);
  const { port } = await transport.open({ address: '127.0.0.1', port: 0, recvBufferBytes: 1 << 20 });
  open.push(transport);
  return { transport, guard, port, clock, changes, read };
}

async function receivers(n: number): Promise<{ sockets: dgram.Socket[]; targets: Target[]; counts: number[] }> {
  const sockets: dgram.Socket[] = [];
  const targets: Target[] = [];
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    counts.push(0);
    s.on('message', () => counts[i]!++);
    sockets.push(s);
    open.push({ close: () => new Promise<void>((r) => s.close(() => r())) });
    targets.push({ socket: 0, address: '127.0.0.1', port: s.address().port, peerId: 3130000 + i, slotBit: 0x80 } as Target);
  }
  return { sockets, targets, counts };
}

/** `n` datagrams from one client socket to `port`, sent while this thread is busy (so they queue). */
async function burst(port: number, n: number): Promise<void> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const b = Buffer.alloc(8, 0x41);
  for (let i = 0; i < n; i++) s.send(b, port, '127.0.0.1');
  await sleep(50);
  await new Promise<void>((r) => s.close(() => r()));
}

const frame = (): Uint8Array => encodeDmrd({ seq: 0, src: 3100001, dst: 91, peerId: 1, slot: 2, frame: 1, streamId: 0x1234 });

describe('overload guard', () => {
  it('sends at most the turn budget of fan-out datagrams per turn and counts the rest', async () => {
    const r = await rig({ fanoutPerTurn: 5 });
    const rx = await receivers(8);
    r.guard.onRead(0); // a turn is open, as while the shell handles a datagram
    r.transport.fanOut(frame(), rx.targets, 8);
    r.transport.fanOut(frame(), rx.targets, 8);
    expect(r.guard.shed.turnBudget).toBe(3 + 8);
    await turn(); // the next turn has a fresh budget
    r.guard.onRead(0);
    r.transport.fanOut(frame(), rx.targets, 3);
    expect(r.guard.shed.turnBudget).toBe(11);
    await sleep(50);
    expect(rx.counts).toEqual([2, 2, 2, 1, 1, 0, 0, 0]);
  });

  it('never sheds a single send', async () => {
    const r = await rig({ fanoutPerTurn: 1 });
    const rx = await receivers(1);
    r.guard.onRead(0);
    r.transport.fanOut(frame(), rx.targets, 1);
    r.transport.send(0, '127.0.0.1', rx.targets[0]!.port, frame());
    r.transport.send(0, '127.0.0.1', rx.targets[0]!.port, frame());
    await sleep(50);
    expect(rx.counts).toEqual([3]);
  });

  it('probes after a full batch; a probe that waited too long makes it behind, a drained queue ends it', async () => {
    const r = await rig({ maxReceiveWaitMs: 250 });
    const rx = await receivers(2);
    await burst(r.port, 3 * READ_BATCH); // queued while this thread was busy: read in full batches
    await sleep(50);
    expect(r.read.length).toBe(3 * READ_BATCH); // the probe itself never reaches the core
    expect(r.read.every((b) => b.length !== PROBE_LEN || b[0] !== 0)).toBe(true);
    expect(r.guard.probes).toBeGreaterThanOrEqual(1);
    expect(r.changes).toEqual([]); // the probe came back at once (test clock: 0 ms)
    expect(r.guard.behind).toBe(false);

    // Again, with the clock moving 300 ms while the probe waits: behind.
    const before = r.guard.probes;
    r.clock.now += 1;
    const sent = new Promise<void>((resolve) => {
      const orig = r.transport.sendProbe.bind(r.transport);
      r.transport.sendProbe = (socket, probe) => {
        orig(socket, probe);
        r.clock.now += 300;
        resolve();
      };
    });
    await burst(r.port, 3 * READ_BATCH);
    await sent;
    await sleep(50);
    expect(r.guard.probes).toBe(before + 1);
    expect(r.changes[0]).toEqual([true, 300]);
    // A turn that read less than a batch drained the queue: no longer behind.
    expect(r.guard.behind).toBe(false);
    expect(r.changes.map((c) => c[0])).toEqual([true, false]);
    expect(r.guard.backlogs).toBe(1);

    // While behind, all fan-out is shed and counted.
    r.guard.behind = true;
    r.transport.fanOut(frame(), rx.targets, 2);
    expect(r.guard.shed.backlog).toBe(2);
  });

  it('a probe still missing after the wait makes it behind, if the queue stayed full', async () => {
    const r = await rig({ maxReceiveWaitMs: 250 });
    r.transport.sendProbe = () => {}; // as if the kernel dropped it: the queue overflowed
    const fullTurn = async (): Promise<void> => {
      for (let i = 0; i < READ_BATCH; i++) r.guard.onRead(0);
      await turn();
    };
    await fullTurn();
    expect(r.guard.probes).toBe(1);
    r.clock.now += 249;
    await fullTurn();
    expect(r.guard.behind).toBe(false);
    r.clock.now += 1;
    await fullTurn();
    expect(r.changes).toEqual([[true, 250]]);
    expect(r.guard.probes).toBe(1);
    // A turn that read less than a batch: drained, and the lost probe is written off.
    r.guard.onRead(0);
    await turn();
    expect(r.changes.map((c) => c[0])).toEqual([true, false]);
    await fullTurn();
    expect(r.guard.probes).toBe(2);
    expect(r.guard.behind).toBe(false);
  });

  it('ignores a datagram shaped like a probe that is not its own', async () => {
    const r = await rig();
    const b = Buffer.alloc(PROBE_LEN);
    b.writeUInt32BE(0x00504200, 0);
    expect(r.guard.onProbe(0, b)).toBe(false); // wrong key
    expect(r.guard.onProbe(0, Buffer.alloc(PROBE_LEN + 1))).toBe(false);
  });
});
