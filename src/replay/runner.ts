// Replays an event log through a fresh core and returns the canonical actions and their digest.

import { createCore, type CoreConfig, type CoreDeps } from '../core/index.js';
import { decodeEvent, parseHeader, type LogHeader } from './format.js';
import { CanonicalSink } from './render.js';

export interface ReplayDeps extends CoreDeps {
  /** Text digest for the final action digest (hex). */
  digestText(text: string): string;
}

export interface ReplayResult {
  header: LogHeader | null;
  events: number;
  lines: string[];
  digest: string;
  errors: string[];
}

/**
 * `resolveSecret` turns a redacted value ("sha256:…") back into the secret, or returns null when it
 * cannot (the result then lists an error and logins fail as they would with a wrong passphrase).
 */
export function replayLog(text: string, deps: ReplayDeps, resolveSecret: (redacted: string) => string | null): ReplayResult {
  const core = createCore(deps);
  const sink = new CanonicalSink();
  const errors: string[] = [];
  const lines = text.split('\n');
  let header: LogHeader | null = null;
  let events = 0;
  const unredact = (p: string): string => {
    if (!p.startsWith('sha256:')) return p;
    const real = resolveSecret(p);
    if (real !== null) return real;
    if (!errors.some((e) => e.startsWith('secret:'))) errors.push('secret: the log has a redacted passphrase and no matching config was given');
    return p;
  };
  const restore = (cfg: CoreConfig): CoreConfig => ({
    ...cfg,
    hbp: {
      ...cfg.hbp,
      passphrase: unredact(cfg.hbp.passphrase),
      ...(cfg.hbp.credentials !== undefined ? { credentials: cfg.hbp.credentials.map((c) => ({ ...c, passphrase: unredact(c.passphrase) })) } : {}),
    },
    ...(cfg.links !== undefined ? { links: cfg.links.map((l) => ({ ...l, passphrase: unredact(l.passphrase) })) } : {}),
    ...(cfg.uplinks !== undefined ? { uplinks: cfg.uplinks.map((u) => ({ ...u, passphrase: unredact(u.passphrase) })) } : {}),
  });
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    if (i === 0 || header === null) {
      const h = parseHeader(line);
      if (h) {
        header = h;
        continue;
      }
    }
    const r = decodeEvent(line);
    if (!r.ok) {
      errors.push(`line ${i + 1}: ${r.error}`);
      continue;
    }
    let ev = r.event;
    if (ev.kind === 'started' || ev.kind === 'config-applied') ev = { ...ev, config: restore(ev.config) };
    sink.now = ev.now;
    core.handle(ev, sink);
    events++;
  }
  return { header, events, lines: sink.lines, digest: deps.digestText(sink.lines.join('\n')), errors };
}
