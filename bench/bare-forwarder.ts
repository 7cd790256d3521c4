// Baseline for the forwarding benchmarks: the least a UDP group-voice forwarder can do in Node.
//
// A DMRD datagram arrives; its TG (bytes [8:11)) selects a target list that was built when peers
// subscribed; for every target except the sender the peer ID at [11:15) is overwritten in place and
// the same Buffer is sent again. No sessions, no contention, no duplicate checks, no copies.
//
// Logins are accepted without any checks so the load generator can be pointed at this server
// unchanged: RPTL → RPTACK + zero salt; RPTK, RPTC, RPTO → RPTACK + id; RPTPING → MSTPONG;
// RPTCL → MSTNAK and the peer is removed. RPTO's TS1=/TS2= lists subscribe the peer (by TG only,
// the slot is ignored).
//
// Two send paths:
//   listen    (default) every reply goes out of the one listening socket, `send(buf, port, addr)`.
//   connected one extra socket per peer, bound to the server's port with SO_REUSEADDR and
//             connect()ed to the peer, so a send skips the address argument (see design §7).
//
// Both pass a synchronous `lookup` to dgram: with the default dns.lookup, `send()` to an IP literal
// is deferred by a process.nextTick, so rewriting one buffer between sends would make every target
// receive the last rewrite. A connected socket needs no lookup at all.

import dgram from 'node:dgram';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  encodeMstnak,
  encodeMstpong,
  encodeRptack,
  encodeRptackSalt,
  hbpKind,
  HbpKind,
  parseTgList,
  tokenizeOptions,
} from '../src/protocol/hbp/index.js';
import { readU32 } from '../src/protocol/bytes.js';
import { isMain, num, str } from './lib/cli.js';
import { bindSocket, setBuffers, udpSocket } from './lib/udp.js';

export interface BareForwarderOptions {
  /** UDP port; 0 (default) picks a free one. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Use one connect()ed socket per peer for sending (default false). */
  connected?: boolean;
  /** SO_RCVBUF / SO_SNDBUF in bytes (default 4 MiB; the kernel caps it at net.core.rmem_max). */
  bufferBytes?: number;
}

export interface BareForwarderStats {
  /** DMRD datagrams received. */
  received: number;
  /** DMRD datagrams sent to targets. */
  forwarded: number;
  /** Control datagrams received (login, ping, close, …). */
  control: number;
  /** DMRD for a TG with no target list. */
  unrouted: number;
  peers: number;
  sendErrors: number;
}

export interface BareForwarder {
  port: number;
  stats(): BareForwarderStats;
  close(): Promise<void>;
}

interface Peer {
  id: number;
  address: string;
  port: number;
  tgs: number[];
  /** Connected send socket (connected mode, once connect() has completed). */
  sock: dgram.Socket | null;
}

/** Flat per-TG target arrays, rebuilt whenever a subscription changes. */
interface TargetList {
  ids: number[];
  ports: number[];
  addrs: string[];
  socks: (dgram.Socket | null)[];
}

export async function startBareForwarder(opts: BareForwarderOptions = {}): Promise<BareForwarder> {
  const host = opts.host ?? '127.0.0.1';
  const connected = opts.connected ?? false;
  const bufferBytes = opts.bufferBytes ?? 4 * 1024 * 1024;

  const peers = new Map<number, Peer>();
  const lists = new Map<number, TargetList>();
  const st: BareForwarderStats = { received: 0, forwarded: 0, control: 0, unrouted: 0, peers: 0, sendErrors: 0 };

  const main = udpSocket(true);
  await bindSocket(main, opts.port ?? 0, host);
  const onError = (): void => {
    st.sendErrors++;
  };
  main.on('error', onError);
  setBuffers(main, bufferBytes);
  const port = main.address().port;

  function rebuild(tg: number): void {
    const l: TargetList = { ids: [], ports: [], addrs: [], socks: [] };
    for (const p of peers.values()) {
      if (!p.tgs.includes(tg)) continue;
      l.ids.push(p.id);
      l.ports.push(p.port);
      l.addrs.push(p.address);
      l.socks.push(p.sock);
    }
    if (l.ids.length === 0) lists.delete(tg);
    else lists.set(tg, l);
  }

  function dropPeer(p: Peer): void {
    peers.delete(p.id);
    if (p.sock) p.sock.close();
    p.sock = null;
    for (const tg of p.tgs) rebuild(tg);
  }

  function openPeerSocket(p: Peer): void {
    const s = udpSocket(true);
    s.on('error', onError);
    s.on('message', onMessage);
    s.bind(port, host, () => {
      setBuffers(s, bufferBytes);
      s.connect(p.port, p.address, () => {
        if (peers.get(p.id) !== p) {
          s.close();
          return;
        }
        p.sock = s;
        for (const tg of p.tgs) rebuild(tg);
      });
    });
  }

  function reply(bytes: Uint8Array, r: dgram.RemoteInfo): void {
    main.send(bytes, r.port, r.address);
  }

  function onControl(msg: Buffer, r: dgram.RemoteInfo): void {
    st.control++;
    const kind = hbpKind(msg);
    if (msg.length < 8) return;
    const id = readU32(msg, kind === HbpKind.RPTPING ? 7 : kind === HbpKind.RPTCL ? 5 : 4);
    switch (kind) {
      case HbpKind.RPTL: {
        const old = peers.get(id);
        if (old) dropPeer(old);
        const p: Peer = { id, address: r.address, port: r.port, tgs: [], sock: null };
        peers.set(id, p);
        if (connected) openPeerSocket(p);
        reply(encodeRptackSalt(0), r);
        break;
      }
      case HbpKind.RPTK:
      case HbpKind.RPTC:
        reply(encodeRptack(id), r);
        break;
      case HbpKind.RPTO: {
        const p = peers.get(id);
        if (p) {
          const before = p.tgs;
          const tgs: number[] = [];
          for (const f of tokenizeOptions(msg.subarray(8)).fields) {
            if (f.key === 'TS1' || f.key === 'TS2' || f.key === 'TS1_STATIC' || f.key === 'TS2_STATIC') {
              for (const tg of parseTgList(f.value, 1000).tgs) if (!tgs.includes(tg)) tgs.push(tg);
            }
          }
          p.tgs = tgs;
          for (const tg of new Set([...before, ...tgs])) rebuild(tg);
        }
        reply(encodeRptack(id), r);
        break;
      }
      case HbpKind.RPTPING:
        reply(encodeMstpong(id), r);
        break;
      case HbpKind.RPTCL: {
        const p = peers.get(id);
        if (p) dropPeer(p);
        reply(encodeMstnak(id), r);
        break;
      }
      default:
        break;
    }
    st.peers = peers.size;
  }

  // The hot path: no allocation beyond what dgram itself does.
  function onMessage(msg: Buffer, r: dgram.RemoteInfo): void {
    if (msg.length < 53 || msg[0] !== 0x44 || msg[1] !== 0x4d || msg[2] !== 0x52 || msg[3] !== 0x44) {
      onControl(msg, r);
      return;
    }
    st.received++;
    const l = lists.get((msg[8]! << 16) | (msg[9]! << 8) | msg[10]!);
    if (l === undefined) {
      st.unrouted++;
      return;
    }
    const src = msg.readUInt32BE(11);
    const ids = l.ids;
    const n = ids.length;
    let sent = 0;
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      if (id === src) continue;
      msg.writeUInt32BE(id, 11);
      const s = l.socks[i];
      if (s) s.send(msg);
      else main.send(msg, l.ports[i]!, l.addrs[i]!);
      sent++;
    }
    st.forwarded += sent;
  }

  main.on('message', onMessage);

  return {
    port,
    stats: () => ({ ...st, peers: peers.size }),
    close: async () => {
      for (const p of [...peers.values()]) if (p.sock) p.sock.close();
      peers.clear();
      lists.clear();
      await new Promise<void>((resolve) => main.close(() => resolve()));
    },
  };
}

export interface SpawnedForwarder {
  port: number;
  pid: number;
  /** Stops the child (SIGTERM) and resolves with its final stats, if it printed them. */
  close(): Promise<BareForwarderStats | null>;
}

/**
 * Run the bare forwarder in a child process, so that it gets its own core and event loop
 * (a forwarder sharing the load generator's thread measures nothing useful).
 */
export function spawnBareForwarder(opts: BareForwarderOptions = {}): Promise<SpawnedForwarder> {
  const file = fileURLToPath(import.meta.url);
  const args = [...process.execArgv, file, '--port', String(opts.port ?? 0), '--host', opts.host ?? '127.0.0.1'];
  if (opts.connected) args.push('--connected');
  if (opts.bufferBytes !== undefined) args.push('--buffer-bytes', String(opts.bufferBytes));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let finalStats: BareForwarderStats | null = null;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('bare forwarder did not start within 10 s'));
    }, 10_000);
    const early = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`bare forwarder exited early (code ${code})`));
    };
    child.once('exit', early);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        let msg: { event?: string; port?: number; stats?: BareForwarderStats };
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch {
          continue;
        }
        if (msg.event === 'listening' && typeof msg.port === 'number') {
          clearTimeout(timer);
          child.off('exit', early);
          const port = msg.port;
          resolve({
            port,
            pid: child.pid!,
            close: async () => {
              if (child.exitCode === null) child.kill('SIGTERM');
              const t = setTimeout(() => child.kill('SIGKILL'), 5000);
              await exited;
              clearTimeout(t);
              return finalStats;
            },
          });
        } else if (msg.event === 'closed' && msg.stats) {
          finalStats = msg.stats;
        }
      }
    });
  });
}

async function cli(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      connected: { type: 'boolean' },
      'buffer-bytes': { type: 'string' },
      'stats-every': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(
      'usage: node dist/bench/bare-forwarder.js [--port 62031] [--host 127.0.0.1] [--connected]\n' +
        '       [--buffer-bytes 4194304] [--stats-every SECONDS]\n' +
        'Prints {"event":"listening","port":N} when ready and {"event":"closed","stats":…} on SIGINT/SIGTERM.',
    );
    return;
  }
  const fwd = await startBareForwarder({
    port: num(values.port, 'port', 62031),
    host: str(values.host, '127.0.0.1'),
    connected: values.connected ?? false,
    bufferBytes: num(values['buffer-bytes'], 'buffer-bytes', 4 * 1024 * 1024),
  });
  console.log(JSON.stringify({ event: 'listening', port: fwd.port, pid: process.pid, connected: values.connected ?? false }));
  const every = num(values['stats-every'], 'stats-every', 0);
  const ticker = every > 0 ? setInterval(() => console.log(JSON.stringify({ event: 'stats', stats: fwd.stats() })), every * 1000) : null;
  let closing = false;
  const stop = (): void => {
    if (closing) return;
    closing = true;
    if (ticker) clearInterval(ticker);
    const stats = fwd.stats();
    void fwd.close().then(() => {
      console.log(JSON.stringify({ event: 'closed', stats }));
      process.exit(0);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (isMain(import.meta.url)) {
  cli().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
