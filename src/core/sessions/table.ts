// The session table: logged-in peers by ID, login challenges in progress, and the hotspots of each
// subscriber (for unit traffic). Only src/core/sessions and the router's lifecycle change it.

import { STATUS_PROBE_ID } from '../../protocol/hbp/index.js';
import type { PendingLogin, Session } from '../model/index.js';

/** The 7-digit owner of a 9-digit hotspot ID (owner ID plus two digits), or null. */
export const ownerOf = (peerId: number): number | null => (peerId >= 100_000_000 && peerId <= 999_999_999 ? Math.floor(peerId / 100) : null);

export class SessionTable {
  private readonly sessions = new Map<number, Session>();
  /** Sessions by peer ID, read-only (a plain Map lookup on the packet path, no call in between). */
  readonly byId: ReadonlyMap<number, Session> = this.sessions;
  private readonly pending = new Map<string, PendingLogin>();
  /** Hotspot sessions by their owner's 7-digit ID (9-digit peer IDs). */
  private readonly owners = new Map<number, Set<Session>>();
  /** Sessions counted against maxPeers (the status probe is not). */
  private counted = 0;
  private made = 0;
  /** IDs an operator blocked, with the core time the block ends. */
  private readonly blocks = new Map<number, number>();

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
  }

  /** Take a closed session out (a newer session of the same peer stays). */
  remove(s: Session): void {
    const owner = ownerOf(s.peerId);
    const set = owner === null ? undefined : this.owners.get(owner);
    if (set !== undefined) {
      set.delete(s);
      if (set.size === 0) this.owners.delete(owner!);
    }
    if (this.sessions.get(s.peerId) === s) {
      this.sessions.delete(s.peerId);
      if (s.peerId !== STATUS_PROBE_ID) this.counted--;
    }
  }

  /** The hotspots whose ID starts with subscriber `owner`'s 7 digits. */
  hotspotsOf(owner: number): Iterable<Session> {
    return this.owners.get(owner) ?? [];
  }

  login(key: string): PendingLogin | undefined {
    return this.pending.get(key);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  addLogin(p: PendingLogin): void {
    this.pending.set(p.key, p);
  }

  /** Forget a challenge (answered or expired); false when it was already replaced or gone. */
  dropLogin(p: PendingLogin): boolean {
    if (this.pending.get(p.key) !== p) return false;
    this.pending.delete(p.key);
    return true;
  }

  clearLogins(): void {
    this.pending.clear();
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

  /** Read-only views for inspection (tests, tools). */
  get sessionMap(): ReadonlyMap<number, Session> {
    return this.sessions;
  }

  get loginMap(): ReadonlyMap<string, PendingLogin> {
    return this.pending;
  }
}
