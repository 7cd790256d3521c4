// Voice prompts (spec §8.1, §8.2): the server speaks to one peer's dial slot, from the prompt source
// ID (5000) to TG 9, with words from the prompt pack of the peer's language (LANG=, else the
// server's). The frames are built from the pack's AMBE+2 voice (src/protocol/dmr/voice.ts) and sent
// by the playout engine, so a prompt takes part in contention like any stream and never talks over
// traffic on that slot.
//
// Packs arrive in a `prompts-loaded` event; until then, or for a language without a pack, prompts
// are skipped (counted, and logged once per peer).

import { buildVoiceStream, concatPrompt } from '../../protocol/dmr/index.js';
import type { CoreEnv } from '../effects.js';
import type { PromptPackData } from '../inputs.js';
import type { Session } from '../model/index.js';
import { startPlayout } from '../playout/index.js';
import { sessionSubject } from '../sessions/session.js';

export const PROMPT_TG = 9;

const NATO = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima', 'mike', 'november', 'oscar', 'papa', 'quebec', 'romeo', 'sierra', 'tango', 'uniform', 'victor', 'whiskey', 'x-ray', 'yankee', 'zulu'];

/** Spellings of each word across the pack formats (directory packs, indexed packs). */
const SPELLINGS: Record<string, readonly string[]> = {
  'linked-to': ['linked-to', 'linkedto', 'linked'],
  'not-linked': ['not-linked', 'notlinked'],
  busy: ['busy', 'isbusy'],
  silence: ['silence'],
  'this-is': ['this-is', 'thisis'],
  ...Object.fromEntries(NATO.map((w, i) => [`letter-${String.fromCharCode(65 + i)}`, [w, String.fromCharCode(65 + i)]])),
};

/** A callsign spelled out: letters as the phonetic alphabet, digits as digits; anything else dropped. */
export function spell(callsign: string): string[] {
  const out: string[] = [];
  for (const c of callsign.toUpperCase()) {
    if (c >= 'A' && c <= 'Z') out.push(`letter-${c}`);
    else if (c >= '0' && c <= '9') out.push(c);
  }
  return out;
}

export function packFor(env: CoreEnv, s: Session): PromptPackData | null {
  const want = s.options.lang ?? env.cfg.prompts.language;
  return env.prompts.get(want) ?? (s.options.lang !== null ? (env.prompts.get(env.cfg.prompts.language) ?? null) : null);
}

/** The words of a number, digit by digit. */
export const digits = (n: number): string[] => String(n).split('');

/** Queue a spoken phrase (symbolic words) for the peer's dial slot, on TG 9 unless `tg` says otherwise. */
export function say(env: CoreEnv, s: Session, words: readonly string[], now: number, what: string, tg = PROMPT_TG): void {
  const pack = packFor(env, s);
  if (pack === null) return skipped(env, s, what);
  const voice: Uint8Array[] = [];
  for (const w of ['silence', ...words]) {
    const got = (SPELLINGS[w] ?? [w]).map((k) => pack.words[k]).find((x) => x !== undefined);
    if (got !== undefined) voice.push(got);
    else env.counters.add('prompt.missing-word');
  }
  play(env, s, concatPrompt(voice), now, what, tg);
}

/** Play an information-service clip (ondemand/<n>.ambe), or "busy" when the pack has none. */
export function sayOndemand(env: CoreEnv, s: Session, n: number, now: number): void {
  const pack = packFor(env, s);
  if (pack === null) return skipped(env, s, 'info');
  const clip = pack.ondemand[String(n)];
  if (clip === undefined) return say(env, s, ['busy'], now, 'info-missing');
  play(env, s, concatPrompt([pack.words['silence'] ?? new Uint8Array(0), clip]), now, 'info');
}

function play(env: CoreEnv, s: Session, voice: Uint8Array, now: number, what: string, tg = PROMPT_TG): void {
  const streamId = env.streams.newId(env.prng);
  const slot = env.cfg.routing.dialSlot;
  const frames = buildVoiceStream({
    voice,
    src: env.cfg.prompts.sourceId,
    dst: tg,
    slot,
    streamId,
    peerId: s.peerId,
    lcOptions: [0x00, 0x00, 0x20],
  });
  env.counters.add(`prompt.${what}`);
  env.fx.log({ code: 'prompt.queued', level: 'debug', peer: s.peerId, slot, stream: streamId, detail: what });
  startPlayout(env, { session: s, slot, frames, tg, streamId, startAt: now + env.cfg.prompts.delayMs, maxWaitMs: 10_000, kind: 'prompt', next: 0 });
}

function skipped(env: CoreEnv, s: Session, what: string): void {
  env.counters.add('prompt.no-pack');
  if (!env.logOnce.first(sessionSubject(s), 'prompt.no-pack')) return;
  const lang = s.options.lang ?? env.cfg.prompts.language;
  env.fx.log({ code: 'prompt.no-pack', level: 'info', peer: s.peerId, detail: `no voice prompt pack for '${lang}' is loaded, so the ${what} prompt is not played` });
}

/** A slot counts as idle for the voice ident when nothing went either way on it for this long. */
export const IDENT_IDLE_MS = 30_000;

/**
 * The periodic voice ident (spec §8.2): every `identIntervalMs`, a peer with voice ident on (VOICE=,
 * else the server's default) and a callsign hears "this is <callsign spelled out>" on its dial slot,
 * to the ident talkgroup (IDENTTG=, else the server's; all-call by default), when that slot has been
 * idle both ways for 30 s. A busy slot is tried again a minute later.
 */
export function scheduleIdent(env: CoreEnv, s: Session, at: number): void {
  if (env.cfg.prompts.identIntervalMs <= 0) return;
  env.fx.schedule(at, { kind: 'ident', session: s });
}

/** A peer's voice ident is due. */
export function identDue(env: CoreEnv, s: Session, now: number): void {
  if (s.closed) return;
  const on = s.options.voice ?? env.cfg.prompts.voiceIdent;
  const callsign = s.config?.callsign.trim() ?? '';
  // No packs at all: the shell said so at start; nothing to log per peer.
  if (!on || callsign === '' || env.prompts.size === 0) return scheduleIdent(env, s, now + Math.max(60_000, env.cfg.prompts.identIntervalMs));
  const lane = s.slots[env.cfg.routing.dialSlot];
  const rxBusy = (lane.rx !== null && !lane.rx.ended) || now - lane.rxTime < IDENT_IDLE_MS;
  const txBusy = !lane.txEnded || now - lane.txTime < IDENT_IDLE_MS;
  if (rxBusy || txBusy) {
    env.counters.add('ident.deferred');
    return scheduleIdent(env, s, now + 60_000);
  }
  say(env, s, ['this-is', ...spell(callsign)], now, 'ident', s.options.identTg ?? env.cfg.prompts.identTg);
  scheduleIdent(env, s, now + env.cfg.prompts.identIntervalMs);
}
