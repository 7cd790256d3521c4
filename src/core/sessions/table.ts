// The session table: logged-in peers by ID (those that proved a passphrase and have not sent RPTC
// yet among them, counted), and the hotspots of each subscriber (for unit traffic). RPTL leaves
// nothing here (sessions/challenge.ts). Only src/core/sessions and the router's lifecycle change it.

import { STATUS_PROBE_ID } from '../../protocol/hbp/index.js';
import type { Session } from '../model/index.js';

/** The 7-digit owner of a 9-digit hotspot ID (owner ID plus two digits), or null. */
export const ownerOf = (peerId: number): number | null => (peerId >= 100_000_000 && peerId <= 999_999_999 ? Math.floor(peerId / 100) : null);

export class SessionTable {
  private readonly sessions = new Map<number, Session>();
  /** Sessions by peer ID, read-only (a plain Map lookup on the packet path, no call in between). */
  readonly byId: ReadonlyMap<number, Session> = this.sessions;
  /** Hotspot sessions by their owner's 7-digit ID (9-digit peer IDs). */
  private readonly owners = new Map<number, Set<Session>>();
  /** Sessions counted against maxPeers (the status probe is not). */
  private counted = 0;
  /** Sessions proven but not yet configured (state 1, waiting for RPTC). */
  private waiting = 0;
  private made = 0;
  /** IDs an operator blocked, with the core time the block ends. */
  private readonly blocks = new Map<number, number>();
  /**
   * The sessions whose picture in the console's state report may be out of date: changed (the
   * RPTC that completes a login among them), heard from (a control message moves the last-ping
   * time) or taken out since the last report. Null while no reports are made (the console is off), so that nothing is kept then.
   */
  private watched: Set<Session> | null = null;

  get(peerId: number): Session | undefined {
    return this.sessions.get(peerId);
  }

  values(): IterableIterator<Session> {
    return this.sessions.values();
  }

  get peerCount(): number {
    return this.counted;
  }

  /** A serial number for a new session. */
  nextSerial(): number {
    return ++this.made;
  }

  add(s: Session): void {
    this.sessions.set(s.peerId, s);
    const owner = ownerOf(s.peerId);
    if (owner !== null) {
      let set = this.owners.get(owner);
      if (set === undefined) this.owners.set(owner, (set = new Set()));
      set.add(s);
    }
    if (s.peerId !== STATUS_PROBE_ID) this.counted++;
    if (s.state === 1) this.waiting++;
  }

  /** The session sent RPTC: it is fully logged in. */
  configured(s: Session): void {
    if (s.state !== 1) return;
    s.state = 2;
    if (this.sessions.get(s.peerId) === s) this.waiting--;
  }

  /** Take a closed session out (a newer session of the same peer stays). */
  remove(s: Session): void {
    this.watched?.add(s);
    const owner = ownerOf(s.peerId);
    const set = owner === null ? undefined : this.owners.get(owner);
    if (set !== undefined) {
      set.delete(s);
      if (set.size === 0) this.owners.delete(owner!);
    }
    if (this.sessions.get(s.peerId) === s) {
      this.sessions.delete(s.peerId);
      if (s.peerId !== STATUS_PROBE_ID) this.counted--;
      if (s.state === 1) this.waiting--;
    }
  }

  /** The hotspots whose ID starts with subscriber `owner`'s 7 digits. */
  hotspotsOf(owner: number): Iterable<Session> {
    return this.owners.get(owner) ?? [];
  }

  /** Logins proven with RPTK and waiting for RPTC. */
  get pendingCount(): number {
    return this.waiting;
  }

  /** Refuse logins of `peerId` until core time `until` (an operator's block; a later one replaces it). */
  block(peerId: number, until: number): void {
    this.blocks.set(peerId, until);
  }

  /** Whether `peerId` is blocked at `now`; a block that has ended is forgotten here. */
  blocked(peerId: number, now: number): boolean {
    const until = this.blocks.get(peerId);
    if (until === undefined) return false;
    if (now < until) return true;
    this.blocks.delete(peerId);
    return false;
  }

  /** What the state report shows of `s` changed (its config, options or a subscription). */
  changed(s: Session): void {
    s.revision++;
    this.watched?.add(s);
  }

  /** `s` sent a control message (its last-ping time moved). Not called for voice. */
  touched(s: Session): void {
    this.watched?.add(s);
  }

  /** Start (or go on) noting the sessions the state report must look at; the set is the caller's to drain. */
  watch(): Set<Session> {
    return (this.watched ??= new Set());
  }

  /** No more state reports: note nothing. */
  unwatch(): void {
    this.watched = null;
  }

  /** Read-only views for inspection (tests, tools). */
  get sessionMap(): ReadonlyMap<number, Session> {
    return this.sessions;
  }
}
