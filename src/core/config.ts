// What the routing core needs to know from the operator's config. Every duration is integer
// milliseconds (the loader converts the file's seconds). Defaults follow FreeDMR (spec §4.12, §6.1).

import type { Credential } from './model/credential.js';
import type { LinkConfig } from './model/link.js';
import type { UplinkConfig } from './model/uplink.js';

export type { LinkConfig, UplinkConfig };

export interface CoreConfig {
  /** This server's 32-bit ID: written into bytes 11–14 of the frames it sends on links. */
  serverId: number;
  hbp: {
    /**
     * The catch-all HBP passphrase, proven with RPTK = SHA-256(salt ‖ passphrase) by a peer no
     * credential covers by ID; "" = none (only credentials log in).
     */
    passphrase: string;
    /**
     * Per-peer credentials, in file order. A peer whose ID one covers must prove that one's
     * passphrase (the first covering it); others may prove a callsign-only credential (checked
     * against the RPTC callsign) or the catch-all (sessions/credentials.ts).
     */
    credentials: Credential[];
    /** Most peers logged in at once (the status probe ID 0xFFFFFFFF is not counted). */
    maxPeers: number;
    /**
     * Most logins proven (RPTK) but not yet configured (RPTC) at once; a further proven login is
     * refused until one completes or expires. RPTL keeps no state at all (sessions/challenge.ts).
     */
    maxPendingLogins: number;
    /**
     * A salt is valid for the time window it was issued in and the next one (so for this long at
     * least, twice this at most); a proven login that sends no RPTC within this time is dropped.
     */
    loginTimeoutMs: number;
    /** Expected interval between a peer's RPTPINGs (MMDVMHost/DMRGateway: 10 s). */
    pingIntervalMs: number;
    /** A peer silent for pingIntervalMs × maxMissedPings is dropped (and sent MSTCL). */
    maxMissedPings: number;
  };
  routing: {
    /** Static talkgroups of a peer that sends no TS1=/TS2= options. */
    ts1Static: number[];
    ts2Static: number[];
    /** Most static talkgroups a peer may ask for on one slot. */
    maxStaticPerSlot: number;
    /**
     * How long a user-activated talkgroup or a dial-a-TG link lasts after its last use
     * (FreeDMR DEFAULT_UA_TIMER, 10 min); a peer's TIMER= option overrides it; 0 = no expiry.
     */
    userActivationMs: number;
    /**
     * A group call to a talkgroup the slot is not subscribed to subscribes it (user activation).
     * On by default, as in FreeDMR.
     */
    userActivation: boolean;
    /**
     * Keying a talkgroup on a slot drops the peer's other user-activated talkgroups on that slot
     * and mutes its static ones there for one timer period (FreeDMR SINGLE_MODE). On by default,
     * as in FreeDMR.
     */
    singleMode: boolean;
    /** Talkgroups that can never be static, user-activated or dialled. */
    prohibited: number[];
    /** Reflector linked to a peer's TG 9 lane at login (FreeDMR DEFAULT_REFLECTOR; 0 = none). */
    defaultReflector: number;
    /** The slot that carries the TG 9 dial lane (FreeDMR: TS2). */
    dialSlot: 1 | 2;
    /**
     * Forward talker alias (DMRA) to the peers receiving the talker's stream that accept it (their
     * credential says `talker_alias`, or their RPTC software ID starts with one of
     * `talkerAliasSoftware`). Off by default: DMRGateway and MMDVMHost reject DMRA from a master.
     */
    talkerAlias: boolean;
    /** RPTC software ID prefixes (case-insensitive) of peers that accept DMRA from a master. */
    talkerAliasSoftware: string[];
    /**
     * Route unit-to-unit voice to a subscriber ID (≥ 1 000 000) to where it was last heard. Off by
     * default, as in FreeDMR, where every private voice call is a dial-a-TG command.
     */
    privateCalls: boolean;
    /** How long a subscriber's last-heard peer is used for unit data and private calls. */
    lastHeardMs: number;
    /**
     * Local talkgroups, as inclusive [first, last] ranges: carried between this server's peers
     * only, never sent on a link and dropped when a link sends them (FreeDMR: below 80, and the
     * echo and information numbers).
     */
    localTalkgroups: [number, number][];
  };
  /** OpenBridge v1 links to other servers (empty: none). */
  links: LinkConfig[];
  /** HomeBrew peer logins to other masters (empty: none). */
  uplinks: UplinkConfig[];
  timers: {
    /** After a slot carried TG A, traffic for another TG waits this long (FreeDMR GROUP_HANGTIME 5 s). */
    groupHangtimeMs: number;
    /** A slot counts as busy this long after its last packet (FreeDMR STREAM_TO 0.36 s). */
    collisionWindowMs: number;
    /** A stream with no packet for this long has lost its terminator and is ended (FreeDMR 5 s). */
    streamTimeoutMs: number;
    /** Packets of a stream older than this are dropped (FreeDMR 180 s). */
    maxStreamMs: number;
    /**
     * A stream ID is remembered this long after its stream ended, so late duplicates and copies of
     * it arriving from another peer (a loop) are dropped instead of starting it again (FreeDMR 60 s).
     */
    streamIdMemoryMs: number;
  };
  echo: {
    /** The echo (parrot) talkgroup, by group or private call; 0 = no echo. FreeDMR: 9990. */
    tg: number;
    /** Longest recording; what goes beyond it is not recorded. */
    maxMs: number;
    /** Most echoes (recording or waiting to play back) at once, over all peers. */
    maxRecordings: number;
    /** Pause between the end of the call and the playback (FreeDMR 2 s). */
    delayMs: number;
  };
  prompts: {
    /** Language of the prompts for peers that do not ask for one with LANG= (a loaded pack). */
    language: string;
    /** Source ID of every prompt (FreeDMR 5000). */
    sourceId: number;
    /** Pause between the request (the end of the private call) and the prompt (FreeDMR 1 s). */
    delayMs: number;
    /** Voice ident for peers that do not say VOICE= (FreeDMR VOICE_IDENT). */
    voiceIdent: boolean;
    /** Time between two voice idents of a peer (FreeDMR 914 s); 0 = never. */
    identIntervalMs: number;
    /** Talkgroup of the voice ident for peers that do not say IDENTTG= (FreeDMR: all-call 16777215). */
    identTg: number;
  };
  /**
   * Access control lists in FreeDMR's grammar (spec §5.1; src/core/acl), as canonical text: ""
   * lets everything through. Checked at login (reg) and at a stream's start (the others), never
   * per packet, on peers, uplinks and links; a link adds its own (LinkConfig.subAcl, tgidAcl).
   */
  acl: {
    /** Peer IDs that may log in. */
    reg: string;
    /** Source subscribers whose streams are taken. */
    sub: string;
    /** Destination talkgroups taken on TS1 (and on links, which are TS1 only). */
    tgidTs1: string;
    /** Destination talkgroups taken on TS2. */
    tgidTs2: string;
    /**
     * A login from a peer ID that is not in the known-ID list (the [acl] id_file, handed in by the
     * `ids-loaded` event): 'allow' (the default), or 'deny' (FreeDMR ALLOW_UNREG_ID = False).
     */
    unknownIds: 'allow' | 'deny';
  };
  limits: {
    /** Packets per second above which a stream's packets are dropped (FreeDMR 25). */
    maxPacketRate: number;
    /** The rate limit applies only after this many packets of a stream (FreeDMR 18). */
    rateGracePackets: number;
    /**
     * New streams per peer or link per minute that get their own call.start/call.end log lines and
     * report events; beyond it they are counted and summed up in one line and event a minute. 0 = no limit.
     */
    streamNoticesPerMinute: number;
  };
  console: {
    /**
     * How often the core reports its state (peers, live calls, links, counters) for the operator
     * console; 0 = never (the console is off). The report is made off the packet path, on a timer.
     */
    snapshotMs: number;
  };
}

export const DEFAULT_CORE_CONFIG: CoreConfig = {
  serverId: 0,
  hbp: {
    passphrase: 'passw0rd',
    credentials: [],
    maxPeers: 10000,
    maxPendingLogins: 10_000,
    loginTimeoutMs: 10_000,
    pingIntervalMs: 10_000,
    maxMissedPings: 3,
  },
  routing: {
    ts1Static: [],
    ts2Static: [],
    maxStaticPerSlot: 64,
    userActivationMs: 600_000,
    userActivation: true,
    singleMode: true,
    prohibited: [],
    defaultReflector: 0,
    dialSlot: 2,
    talkerAlias: false,
    talkerAliasSoftware: [],
    privateCalls: false,
    lastHeardMs: 600_000,
    localTalkgroups: [
      [1, 79],
      [4000, 4000],
      [5000, 5000],
      [9990, 9999],
    ],
  },
  links: [],
  uplinks: [],
  timers: { groupHangtimeMs: 5000, collisionWindowMs: 360, streamTimeoutMs: 5000, maxStreamMs: 180_000, streamIdMemoryMs: 60_000 },
  echo: { tg: 9990, maxMs: 60_000, maxRecordings: 8, delayMs: 2000 },
  prompts: { language: 'en_GB', sourceId: 5000, delayMs: 1000, voiceIdent: true, identIntervalMs: 914_000, identTg: 16_777_215 },
  acl: { reg: '', sub: '', tgidTs1: '', tgidTs2: '', unknownIds: 'allow' },
  limits: { maxPacketRate: 25, rateGracePackets: 18, streamNoticesPerMinute: 30 },
  console: { snapshotMs: 0 },
};

/**
 * `cfg` with every section and key it lacks taken from the defaults (one level deep: sections,
 * then their keys), so a config recorded by an older version still drives this one.
 */
export function withDefaults(cfg: CoreConfig): CoreConfig {
  const out: Record<string, unknown> = { ...DEFAULT_CORE_CONFIG, ...cfg };
  for (const [k, v] of Object.entries(DEFAULT_CORE_CONFIG)) {
    const given = (cfg as unknown as Record<string, unknown>)[k];
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) out[k] = { ...v, ...(typeof given === 'object' && given !== null ? given : {}) };
  }
  // Links recorded before FBP existed are OpenBridge v1 links.
  out['links'] = (cfg.links ?? []).map((l) => ({ ...LINK_DEFAULTS, ...l }));
  return out as unknown as CoreConfig;
}

/** The keys of a link that a config recorded by an older version may lack. */
export const LINK_DEFAULTS: Required<Pick<LinkConfig, 'protocol' | 'followAddress' | 'maxHops' | 'maxAgeMs' | 'knownServers' | 'subAcl' | 'tgidAcl'>> = {
  protocol: 'openbridge',
  followAddress: false,
  maxHops: 10,
  maxAgeMs: 5000,
  knownServers: [],
  subAcl: '',
  tgidAcl: '',
};

/**
 * `cfg` with every secret (the HBP passphrase, each credential's, each link's and uplink's passphrase) replaced by `digest` of it:
 * the one list of the core's secrets, for event logs, dumps and the redacted operator config.
 */
export function redactCore(cfg: CoreConfig, digest: (s: string) => string): CoreConfig {
  return {
    ...cfg,
    hbp: {
      ...cfg.hbp,
      passphrase: cfg.hbp.passphrase === '' ? '' : digest(cfg.hbp.passphrase),
      // `?? []`: a config recorded by a version without credentials.
      credentials: (cfg.hbp.credentials ?? []).map((c) => ({ ...c, passphrase: digest(c.passphrase) })),
    },
    // `?? []`: a config recorded by a version without links.
    links: (cfg.links ?? []).map((l) => ({ ...l, passphrase: digest(l.passphrase) })),
    uplinks: (cfg.uplinks ?? []).map((u) => ({ ...u, passphrase: digest(u.passphrase) })),
  };
}
