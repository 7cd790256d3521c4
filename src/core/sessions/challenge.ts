// The stateless RPTL challenge. The salt sent with RPTACK is not drawn and remembered: it is the
// first four bytes of HMAC-SHA256(key, peer ID ‖ port ‖ window ‖ address), where the key comes from
// the `started` event's seed and the window is `now` divided by the login timeout. RPTK is checked
// by working the salt out again for the current window and the one before, so an RPTL leaves
// nothing behind: no flood of RPTLs, from any number of addresses, can fill a table or push an
// honest login out. A salt is valid for one to two login timeouts; within one window the same
// (peer, address, port) gets the same salt, so a repeated RPTL (the client's retry) is answered
// alike. The HMAC is built from the injected SHA-256 (the core has no node:crypto).

import { utf8, writeU32 } from '../../protocol/bytes.js';

/** The injected SHA-256 (CoreDeps has it; named here so this folder does not import effects.ts). */
export interface Hashing {
  sha256(data: Uint8Array): Uint8Array;
}

const BLOCK = 64;

export class LoginChallenge {
  private readonly inner = new Uint8Array(BLOCK);
  private readonly outer = new Uint8Array(BLOCK + 32);

  constructor(
    private readonly deps: Hashing,
    seed: number,
  ) {
    // The key: SHA-256 of a label and the seed, padded to a block; the two pads as RFC 2104 says.
    const label = utf8('dmrhub rptl salt key ');
    const material = new Uint8Array(label.length + 4);
    material.set(label);
    writeU32(material, label.length, seed >>> 0);
    const key = deps.sha256(material);
    for (let i = 0; i < BLOCK; i++) {
      const k = i < key.length ? key[i]! : 0;
      this.inner[i] = k ^ 0x36;
      this.outer[i] = k ^ 0x5c;
    }
  }

  /** The salt for `peerId` at `address`:`port` in time window `window`. */
  salt(peerId: number, address: string, port: number, window: number): number {
    const addr = utf8(address);
    const msg = new Uint8Array(BLOCK + 10 + addr.length);
    msg.set(this.inner);
    writeU32(msg, BLOCK, peerId >>> 0);
    msg[BLOCK + 4] = (port >>> 8) & 0xff;
    msg[BLOCK + 5] = port & 0xff;
    writeU32(msg, BLOCK + 6, window >>> 0);
    msg.set(addr, BLOCK + 10);
    this.outer.set(this.deps.sha256(msg).subarray(0, 32), BLOCK);
    const mac = this.deps.sha256(this.outer);
    return ((mac[0]! << 24) | (mac[1]! << 16) | (mac[2]! << 8) | mac[3]!) >>> 0;
  }
}

/** The time window of `now` for a login timeout of `timeoutMs`. */
export const windowOf = (now: number, timeoutMs: number): number => Math.floor(now / Math.max(1, timeoutMs));

/** SHA-256(salt ‖ passphrase) equals `digest` (compared without an early exit). */
export function digestMatches(deps: Hashing, salt: number, passphrase: Uint8Array, digest: Uint8Array): boolean {
  const msg = new Uint8Array(4 + passphrase.length);
  writeU32(msg, 0, salt);
  msg.set(passphrase, 4);
  const expected = deps.sha256(msg);
  let diff = expected.length === 32 && digest.length === 32 ? 0 : 1;
  for (let i = 0; i < 32; i++) diff |= (expected[i] ?? 0) ^ (digest[i] ?? 0);
  return diff === 0;
}
