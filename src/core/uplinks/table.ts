// The uplink table: the masters this server logs in to as a peer, by the shell socket each uses,
// by name, and by the stand-in session that speaks for each in routing. Only the uplinks' own
// lifecycle (src/core/uplinks/lifecycle.ts) changes it.

import type { Session, Uplink } from '../model/index.js';

export class UplinkTable {
  private readonly list: Uplink[] = [];
  private readonly bySocket = new Map<number, Uplink>();
  private readonly bySession = new Map<Session, Uplink>();

  get all(): readonly Uplink[] {
    return this.list;
  }

  bySocketNumber(socket: number): Uplink | undefined {
    return this.bySocket.get(socket);
  }

  byName(name: string): Uplink | undefined {
    return this.list.find((u) => u.cfg.name === name);
  }

  /** The uplink a stand-in session speaks for. */
  ofSession(s: Session): Uplink | undefined {
    return this.bySession.get(s);
  }

  /** The name of the uplink a stand-in session speaks for ('' for any other session). */
  nameOf(s: Session): string {
    return this.bySession.get(s)?.cfg.name ?? '';
  }

  /** The uplinks in config order, from now on. */
  replace(next: readonly Uplink[]): void {
    this.list.length = 0;
    this.bySocket.clear();
    this.bySession.clear();
    for (const u of next) {
      this.list.push(u);
      this.bySocket.set(u.cfg.socket, u);
      this.bySession.set(u.session, u);
    }
  }

  /** `u` speaks through a new stand-in session from now on (its address or ID changed). */
  rebind(u: Uplink, old: Session): void {
    this.bySession.delete(old);
    this.bySession.set(u.session, u);
  }
}
