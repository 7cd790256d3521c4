// Linux /proc readers used by the benchmarks: per-socket UDP drop counters and a process's CPU and
// memory. Every reader degrades to null/empty off Linux or when the file is unreadable.

import { readFileSync, readdirSync } from 'node:fs';

/** Ticks per second for /proc/<pid>/stat times; 100 on every mainstream Linux build. */
const CLK_TCK = 100;

/**
 * Sum of the kernel's receive-drop counters (sk_drops) of IPv4 UDP sockets whose local port is in
 * `ports`. Drops happen when a socket's receive buffer is full. Returns null when /proc is missing.
 */
export function udpDrops(ports: ReadonlySet<number>): number | null {
  const by = udpDropsByPort(ports);
  if (by === null) return null;
  let total = 0;
  for (const d of by.values()) total += d;
  return total;
}

/** Like udpDrops, per local port (sockets sharing a port are summed). */
export function udpDropsByPort(ports: ReadonlySet<number>): Map<number, number> | null {
  let text: string;
  try {
    text = readFileSync('/proc/net/udp', 'latin1');
  } catch {
    return null;
  }
  const out = new Map<number, number>();
  let lineStart = text.indexOf('\n') + 1; // skip the header line
  while (lineStart > 0 && lineStart < text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    const line = text.slice(lineStart, lineEnd);
    lineStart = lineEnd + 1;
    // "  sl  local_address rem_address   st tx_queue:rx_queue ... ref pointer drops"
    const cols = line.trim().split(/\s+/);
    const local = cols[1];
    const drops = cols[cols.length - 1];
    if (local === undefined || drops === undefined) continue;
    const colon = local.indexOf(':');
    if (colon < 0) continue;
    const port = parseInt(local.slice(colon + 1), 16);
    if (ports.has(port)) out.set(port, (out.get(port) ?? 0) + (Number(drops) || 0));
  }
  return out;
}

export interface ProcSample {
  /** user + system CPU time in ms. */
  cpuMs: number;
  rssMb: number;
  /** Peak resident set (VmHWM). */
  hwmMb: number;
  /** performance.now() when sampled. */
  at: number;
}

/** CPU and memory of another process, from /proc/<pid>/stat and /proc/<pid>/status. */
export function sampleProcess(pid: number): ProcSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15 (1-based).
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const kb = (key: string): number => {
      const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status);
      return m ? Number(m[1]) : 0;
    };
    return {
      cpuMs: ((utime + stime) * 1000) / CLK_TCK,
      rssMb: Math.round(kb('VmRSS') / 102.4) / 10,
      hwmMb: Math.round(kb('VmHWM') / 102.4) / 10,
      at: performance.now(),
    };
  } catch {
    return null;
  }
}

export interface CpuUse {
  /** CPU time over wall time, in percent of one core. */
  cpuPct: number;
  rssMb: number;
  hwmMb: number;
}

export function cpuBetween(a: ProcSample | null, b: ProcSample | null): CpuUse | null {
  if (!a || !b || b.at <= a.at) return null;
  return {
    cpuPct: Math.round(((b.cpuMs - a.cpuMs) / (b.at - a.at)) * 1000) / 10,
    rssMb: b.rssMb,
    hwmMb: b.hwmMb,
  };
}

/** Every live descendant of `pid` (from each process's parent in /proc/<pid>/stat). */
export function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    const child = Number(name);
    if (!Number.isInteger(child)) continue;
    try {
      const stat = readFileSync(`/proc/${child}/stat`, 'latin1');
      parent.set(child, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone meanwhile */
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [c, pp] of parent) if (pp === p) (out.push(c), walk(c));
  };
  walk(pid);
  return out;
}

/** CPU time (ms) used so far by the live descendants of `pid`, together. */
export function treeCpuMs(pid: number): number {
  let ms = 0;
  for (const c of descendants(pid)) ms += sampleProcess(c)?.cpuMs ?? 0;
  return ms;
}
