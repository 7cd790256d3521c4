// What the console knows, kept in the reporting thread: the v1 report events as they arrive (a
// bounded backlog for the event stream, ended calls for lastheard, calls in progress) and the
// core's latest state report. Every API view is made here, in the API's shape (snake_case keys,
// ISO 8601 times, `*_ms` durations). Nothing here reads the core: only what the main thread sent.

import { mergePeers, type ConsoleCall, type ConsoleCoreState, type ConsolePeer, type ToConsole } from '../src/reporting/console.js';
import type { CallEndEvent, CallStartEvent, LinkEvent, ReportEvent } from '../src/reporting/events.js';

/** The names store of src/names (loaded when the module and files are there). */
export interface NameStore {
  subscriber(id: number): { callsign: string; name?: string } | undefined;
  talkgroup(id: number): string | undefined;
  readonly subscriberCount: number;
  readonly talkgroupCount: number;
}

export type StateMessage = Extract<ToConsole, { type: 'state' }>;
/** The latest state message, with the core's state merged from every report so far. */
export type MergedState = Omit<StateMessage, 'state'> & { state: ConsoleCoreState };

export interface BacklogEntry {
  seq: number;
  event: string;
  data: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');
const round = (x: number, places: number): number => Math.round(x * 10 ** places) / 10 ** places;
const mean = (sum: number, n: number): number | null => (n > 0 ? round(sum / n, 2) : null);
const isDialLane = (s: { tg: number; source: string }): boolean => s.tg === 9 && (s.source === 'dial' || s.source === 'default-reflector');

/** A subscription source as the API names it. */
export function subscriptionKind(source: string, tg: number): 'static' | 'dynamic' | 'dial' {
  if (isDialLane({ tg, source })) return 'dial';
  return source === 'user' ? 'dynamic' : 'static';
}

export type CallView = Record<string, unknown>;

export class ConsoleState {
  state: MergedState | null = null;
  names: NameStore | null = null;
  private readonly backlog: BacklogEntry[] = [];
  private readonly heard: { seq: number; e: CallEndEvent }[] = [];
  private readonly live = new Map<string, CallStartEvent>();
  private readonly linkEvents = new Map<string, LinkEvent>();
  /** The connected peers, merged from the state reports (each lists what changed). */
  private readonly peerMap = new Map<number, ConsolePeer>();
  /** The counters, in the order first sent, and where each name is in that list. */
  private counterList: [string, number][] = [];
  private readonly counterAt = new Map<string, number>();
  /** Events taken, and the last seq seen. */
  received = 0;
  lastSeq = 0;

  constructor(
    private readonly backlogSize: number,
    private readonly heardSize: number,
  ) {}

  /** Take one report event; returns its backlog entry (for the event stream). */
  apply(e: ReportEvent): BacklogEntry {
    this.received++;
    this.lastSeq = e.seq;
    if (e.family === 'call') {
      if (e.type === 'start') this.live.set(e.stream, e);
      else if (e.type === 'end') {
        this.live.delete(e.stream);
        this.heard.push({ seq: e.seq, e });
        if (this.heard.length > this.heardSize) this.heard.splice(0, this.heard.length - this.heardSize);
      }
    } else if (e.family === 'link') this.linkEvents.set(`${e.kind}:${e.link}`, e);
    const entry: BacklogEntry = { seq: e.seq, event: `${e.family}.${e.type}`, data: JSON.stringify(e) };
    this.backlog.push(entry);
    if (this.backlog.length > this.backlogSize) this.backlog.splice(0, this.backlog.length - this.backlogSize);
    return entry;
  }

  /** Merge a state message (what changed since the last; everything when `full`). */
  setState(m: StateMessage): void {
    const c = m.state;
    mergePeers(this.peerMap, c);
    if (c.full) {
      this.counterList = [];
      this.counterAt.clear();
    }
    for (const [name, value] of c.counters) {
      const at = this.counterAt.get(name);
      if (at !== undefined) this.counterList[at]![1] = value;
      else {
        this.counterAt.set(name, this.counterList.length);
        this.counterList.push([name, value]);
      }
    }
    // The sorted list is made again only when a peer came, went or changed.
    const changed = c.full || c.peers.length > 0 || c.gone.length > 0 || this.state === null;
    const peers = changed ? [...this.peerMap.values()].sort((a, b) => a.peer - b.peer) : this.state!.state.peers;
    this.state = { ...m, state: { now: c.now, peers, calls: c.calls, links: c.links, uplinks: c.uplinks, counters: this.counterList } };
    // Calls the core no longer has (their end was dropped from a full queue) leave the live list.
    const known = new Set(c.calls.map((x) => hex8(x.stream)));
    const asOf = c.now + m.offset;
    for (const [id, c] of this.live) if (!known.has(id) && c.at < asOf - 1000) this.live.delete(id);
  }

  /** Backlog entries after `seq`, or null when `seq` is older than the backlog holds. */
  since(seq: number): BacklogEntry[] | null {
    const first = this.backlog[0];
    if (first === undefined) return seq >= this.lastSeq ? [] : null;
    if (seq < first.seq - 1) return null;
    return this.backlog.filter((b) => b.seq > seq);
  }

  private wall(coreMs: number): number {
    return coreMs + (this.state?.offset ?? 0);
  }

  private withNames(v: CallView, src: number, tg: number, peer: number, group: boolean): CallView {
    const sub = this.names?.subscriber(src);
    if (sub !== undefined) {
      v['src_callsign'] = sub.callsign;
      if (sub.name !== undefined) v['src_name'] = sub.name;
    }
    const tgName = group ? this.names?.talkgroup(tg) : undefined;
    if (tgName !== undefined) v['tg_name'] = tgName;
    const p = this.peerMap.get(peer);
    if (p?.config) v['peer_callsign'] = p.config.callsign;
    return v;
  }

  private endedView(e: CallEndEvent): CallView {
    const v: CallView = {
      stream_id: e.stream,
      src: e.src,
      tg: e.dst,
      slot: e.slot,
      peer: e.peer,
      call_type: e.callType,
      via: 'peer',
      started_at: iso(e.startedAt),
      duration_ms: e.durationMs,
      loss: e.loss,
      ber: e.ber,
      rssi: e.rssi,
      ended_at: iso(e.at),
      end_reason: e.reason,
    };
    return this.withNames(v, e.src, e.dst, e.peer, e.callType === 'group');
  }

  /** Calls in progress: from the call events, with the quality figures of the latest state report. */
  calls(now = Date.now()): CallView[] {
    const byId = new Map<string, ConsoleCall>();
    for (const c of this.state?.state.calls ?? []) byId.set(hex8(c.stream), c);
    const out: CallView[] = [];
    for (const c of this.live.values()) {
      const q = byId.get(c.stream);
      const total = q ? q.packets + q.lost : 0;
      const v: CallView = {
        stream_id: c.stream,
        src: c.src,
        tg: c.dst,
        slot: c.slot,
        peer: c.peer,
        call_type: c.callType,
        via: q?.via ?? 'peer',
        started_at: iso(c.at),
        duration_ms: Math.max(0, now - c.at),
        loss: q && total > 0 ? round(q.lost / total, 4) : 0,
        ber: q ? mean(q.berSum, q.qualityPackets) : null,
        rssi: q ? mean(q.rssiSum, q.qualityPackets) : null,
      };
      out.push(this.withNames(v, c.src, c.dst, c.peer, c.callType === 'group'));
    }
    return out;
  }

  /** Ended calls, newest first, filtered; `cursor` is the seq of the last item of the previous page. */
  lastheard(q: { src?: number; tg?: number; peer?: number; limit: number; cursor?: number }): { items: CallView[]; next_cursor: string | null } {
    const page: { seq: number; e: CallEndEvent }[] = [];
    let more = false;
    for (let i = this.heard.length - 1; i >= 0; i--) {
      const h = this.heard[i]!;
      if (q.cursor !== undefined && h.seq >= q.cursor) continue;
      if (q.src !== undefined && h.e.src !== q.src) continue;
      if (q.tg !== undefined && h.e.dst !== q.tg) continue;
      if (q.peer !== undefined && h.e.peer !== q.peer) continue;
      if (page.length === q.limit) {
        more = true;
        break;
      }
      page.push(h);
    }
    return { items: page.map((h) => this.endedView(h.e)), next_cursor: more ? String(page[page.length - 1]!.seq) : null };
  }

  peers(): Record<string, unknown>[] {
    return (this.state?.state.peers ?? []).map((p) => this.peerView(p));
  }

  private peerView(p: ConsolePeer): Record<string, unknown> {
    const c = p.config;
    const ts1: number[] = [];
    const ts2: number[] = [];
    const dial: { ts1?: number; ts2?: number } = {};
    for (const s of p.subs) {
      if (isDialLane(s)) dial[s.slot === 1 ? 'ts1' : 'ts2'] = s.conference;
      else (s.slot === 1 ? ts1 : ts2).push(s.tg);
    }
    const num = (s: string | undefined): number | null => (s === undefined || s.trim() === '' || !Number.isFinite(Number(s)) ? null : Number(s));
    return {
      id: p.peer,
      callsign: c?.callsign ?? '',
      address: p.address,
      port: p.port,
      connected_since: iso(this.wall(p.loggedInAt)),
      last_ping: iso(this.wall(p.lastSeen)),
      software: c?.softwareId ?? '',
      package: c?.packageId ?? '',
      location: c?.location ?? '',
      description: c?.description ?? '',
      url: c?.url ?? '',
      rx_freq: c?.rxFreq ?? '',
      tx_freq: c?.txFreq ?? '',
      tx_power: c?.txPower ?? '',
      colour_code: num(c?.colorCode),
      latitude: num(c?.latitude),
      longitude: num(c?.longitude),
      height: num(c?.height),
      slots: c?.slots ?? '',
      options: p.options,
      subscriptions: { ts1: ts1.sort((a, b) => a - b), ts2: ts2.sort((a, b) => a - b) },
      dial,
    };
  }

  talkgroups(): Record<string, unknown>[] {
    const byTg = new Map<number, { tg: number; subscribers: { peer: number; slot: 1 | 2; kind: string }[]; active: CallView[] }>();
    const get = (tg: number) => {
      let t = byTg.get(tg);
      if (t === undefined) byTg.set(tg, (t = { tg, subscribers: [], active: [] }));
      return t;
    };
    for (const p of this.state?.state.peers ?? []) for (const s of p.subs) get(s.conference).subscribers.push({ peer: p.peer, slot: s.slot, kind: subscriptionKind(s.source, s.tg) });
    for (const c of this.calls()) if (c['call_type'] === 'group') get(c['tg'] as number).active.push(c);
    return [...byTg.values()]
      .sort((a, b) => a.tg - b.tg)
      .map((t) => {
        const name = this.names?.talkgroup(t.tg);
        return { tg: t.tg, ...(name !== undefined ? { name } : {}), subscribers: t.subscribers, active: t.active };
      });
  }

  links(): { links: Record<string, unknown>[]; uplinks: Record<string, unknown>[] } {
    const s = this.state?.state;
    const links = (s?.links ?? []).map((l) => {
      const ev = this.linkEvents.get(`${l.protocol}:${l.name}`);
      return {
        name: l.name,
        protocol: l.protocol,
        state: l.up === null ? 'active' : l.up ? 'up' : 'down',
        address: l.address,
        port: l.port,
        version: l.version,
        last_keepalive: l.lastHeard === null ? null : iso(this.wall(l.lastHeard)),
        counters: { frames_in: l.framesIn, frames_out: l.framesOut, dropped: l.dropped, ...(ev ? { quench_sent: ev.counts.quenchSent, quench_received: ev.counts.quenchReceived, loops: ev.counts.loops, too_many_hops: ev.counts.tooManyHops } : {}) },
      };
    });
    const uplinks = (s?.uplinks ?? []).map((u) => ({
      name: u.name,
      protocol: 'hbp',
      state: u.state,
      address: u.address,
      port: u.port,
      version: 0,
      up_since: u.upAt === null ? null : iso(this.wall(u.upAt)),
      last_keepalive: null,
      counters: { frames_in: u.framesIn, dropped: u.dropped },
    }));
    return { links, uplinks };
  }

  counters(): Record<string, number> {
    return Object.fromEntries(this.state?.state.counters ?? []);
  }
}
