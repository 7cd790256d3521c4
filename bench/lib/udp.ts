// dgram helpers shared by the load generator and the bare forwarder.

import dgram from 'node:dgram';

type LookupCb = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * A dgram `lookup` that answers synchronously. Every address the benches use is an IPv4 literal.
 * With the default (dns.lookup), `send(buf, port, '127.0.0.1')` is deferred by a process.nextTick,
 * so a buffer rewritten between two sends goes out twice with the second content.
 */
export const syncLookup = (address: string, _opts: unknown, cb: LookupCb): void => cb(null, address, 4);

/** Ask for large kernel buffers; the kernel caps them at net.core.{r,w}mem_max. */
export function setBuffers(s: dgram.Socket, bytes: number): void {
  try {
    s.setRecvBufferSize(bytes);
  } catch {
    /* keep the default */
  }
  try {
    s.setSendBufferSize(bytes);
  } catch {
    /* keep the default */
  }
}

export function udpSocket(reuseAddr = false): dgram.Socket {
  return dgram.createSocket({ type: 'udp4', reuseAddr, lookup: syncLookup });
}

export function bindSocket(s: dgram.Socket, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onErr = (e: Error): void => reject(e);
    s.once('error', onErr);
    s.bind(port, host, () => {
      s.off('error', onErr);
      resolve();
    });
  });
}

export function connectSocket(s: dgram.Socket, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    s.connect(port, host, (err?: Error) => (err ? reject(err) : resolve()));
  });
}

export function closeSocket(s: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      s.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

/**
 * Stop or resume reading a bound socket without closing it (Node has no public API for this; we
 * reach the libuv handle through dgram's internal state symbol). While stopped, datagrams queue
 * in the kernel and, once the receive buffer is full, are dropped and counted in the socket's
 * sk_drops (see procfs.udpDrops). Returns false when the internals are not where we expect them.
 */
export function setReading(s: dgram.Socket, on: boolean): boolean {
  const sym = Object.getOwnPropertySymbols(s).find((x) => x.description === 'state symbol');
  if (sym === undefined) return false;
  const state = (s as unknown as Record<symbol, { handle?: { recvStart?: () => number; recvStop?: () => number } }>)[sym];
  const h = state?.handle;
  if (!h || typeof h.recvStart !== 'function' || typeof h.recvStop !== 'function') return false;
  if (on) h.recvStart();
  else h.recvStop();
  return true;
}
