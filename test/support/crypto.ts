import { createHash, createHmac } from 'node:crypto';

export const sha256 = (data: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(data).digest());
export const hmacSha1 = (key: Uint8Array, data: Uint8Array): Uint8Array => new Uint8Array(createHmac('sha1', key).update(data).digest());

/** RPTK digest the way MMDVMHost/DMRGateway compute it: SHA-256(salt ‖ passphrase). */
export function loginDigest(salt: number, passphrase: string): Uint8Array {
  const buf = Buffer.alloc(4 + Buffer.byteLength(passphrase));
  buf.writeUInt32BE(salt >>> 0, 0);
  buf.write(passphrase, 4, 'latin1');
  return sha256(buf);
}
