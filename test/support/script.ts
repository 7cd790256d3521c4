// Golden scripts: a scenario written as plain text commands, with the decoded actions of each
// command kept under it (the layout of etcd raft's testdata files). A file is blocks separated by
// blank lines; a block is comment lines (#…) and command lines, then, when the commands did
// something, a `----` line and the decoded actions they caused (src/replay/decode.ts). The block
// with `shutdown` ends with `digest <sha256>` of the canonical rendering (src/replay/render.ts),
// so the file pins every byte while showing none.
//
// Declarations (before `start`):
//   peer <name> <id> <address>:<port>            a hotspot; transcripts name it as the receiver
//   link <name> socket <n> <address>:<port> network <id> [fbp]
//                                                an OpenBridge link (key: the scenario passphrase);
//                                                `fbp`: an FBP link (protocol = "fbp")
//   uplink <name> socket <n> <address>:<port> peer <id> [options <text>] [loose] [xlx <number>]
//                                                an uplink to the master at address:port (passphrase:
//                                                the scenario's); transcripts name it uplink:<name>
//   config <path> <json>                          set a core config value (dotted path);
//   config <path> += <json>                       or append to a list. After `start`: a reload
//                                                (a config-applied event with the changed config)
//   start [seed <n>] [wall <ms>]                  the core starts at 0 with that config (and that
//                                                wall clock, ms since 1970, for FBP timestamps)
// Commands (a leading @<ms> first moves the clock there; deadlines due on the way tick):
//   @<ms>                                         just move the clock
//   wait <ms>                                     move the clock on by <ms>
//   login <peer> [options <text>] [passphrase <p>] [callsign <c>]
//                                                RPTL, RPTK, RPTC (+ RPTO with options), 10 ms apart;
//                                                a wrong passphrase stops at the refused RPTK
//   challenge <peer> / answer <peer> [passphrase <p>]
//                                                RPTL alone / RPTK for the salt last given to <peer>
//   rptl <peer>                                  RPTL alone, whatever the answer (a refusal too)
//   operator <id> disconnect <peer> | block <peer> <seconds> | options <peer> <text> | dial-drop <peer> <slot>
//                                                an operator command from the console, numbered <id>
//   ping <peer> / logout <peer> / options <peer> <text>
//                                                RPTPING / RPTCL / RPTO
//   call <peer> ts<n> <src> -> <dst> stream <id> [private] [superframes <n>] [no-terminator]
//        [data [blocks <n>]] [&]                 a call, one packet every 60 ms: voice header,
//                                                <n> (default 1) superframes of bursts A–F,
//                                                terminator; `data`: a data header and <n>
//                                                (default 2) rate-1/2 blocks instead. Without `&`
//                                                the clock runs to its last packet; with `&` the
//                                                packets interleave with the block's next commands
//                                                (all are sent by the end of the block)
//   dial <peer> ts<n> <src> -> <dst> stream <id> a private call of a header and a terminator
//   dmrd <peer> ts<n> <src> -> <dst> stream <id> seq <n> <phase> [private]
//                                                one packet; phase as in transcripts (burst-A, …)
//   alias <peer> <src> <text>                     a talker alias (DMRA, block type 0)
//   prompts <dir|synthetic> <lang> words <w,…> ondemand <n,…>
//                                                prompt packs loaded (a prompt-pack directory)
//   link-frames <link> <pcap> stream <id> [every <ms>]
//                                                the captured frames of that stream, from the link
//                                                (OpenBridge DMRD or FBP DMRE, as captured)
//   link-fbp-frames <link> <pcap> stream <id> [every <ms>] [tg <dst>] [new-stream <id>] [hops <n>]
//        [source <server>] [count <n>] [age <ms>] [bad-mac]
//                                                FBP: the captured DMRE frames of that stream (the
//                                                first <n>), re-addressed as given, with the link's
//                                                network ID in bytes 11–14, stamped with the wall
//                                                clock when each is sent (less <age>) and signed
//                                                again, one every <ms> (default 60)
//   link-bc <link> bcka | bcve <version> | bcsq <tg> <stream> | bcst [bad-mac] [from-port <port>]
//                                                FBP: a control frame from the link's far end, signed
//   link-frame <link> <pcap> stream <id> tg <dst> new-stream <id> [bad-mac] [from-port <port>]
//                                                its first frame, re-addressed and signed again
//   master <uplink> <RPTACK|MSTNAK|MSTPONG|MSTCL> [<arg>] [from-port <port>]
//                                                a reply from the uplink's master (arg: the uplink's
//                                                peer ID unless given; RPTACK <salt> answers RPTL)
//   call/dmrd <uplink> …                          as for a peer: DMRD from the master, our peer ID in it
//   shutdown
// Paths are relative to the repository root. Numbers are decimal; strings may be "quoted".

import { resolve } from 'node:path';
import { type CoreConfig, type PromptPackData } from '../../src/core/index.js';
import { encodeMstcl, encodeMstnak, encodeMstpong, encodeRptack, encodeRptl, obpKey, readU32, signObp, writeU24, writeU32 } from '../../src/protocol/index.js';
import { DMRE, encodeBc, fbpKeys, setDmreHops, setDmreTimeMs, signDmre } from '../../src/protocol/fbp/index.js';
import { phaseFlags, TranscriptDecoder, type Receiver } from '../../src/replay/index.js';
import { loadPromptPack } from '../../src/shell/prompts.js';
import { hmacSha1 } from './crypto.js';
import { readPcapUdp } from './pcap.js';
import { syntheticPromptDir } from './fixtures.js';
import { dmrd, Scenario, SCENARIO_PASSPHRASE, scenarioConfig, textDigest, voiceFrameTypes, type BuiltScenario, type Peer } from './scenario.js';

export interface ScriptBlock {
  /** Comment and command lines, as written. */
  input: string[];
  /** The lines after `----`, or null when the block has none. */
  output: string[] | null;
  /** 1-based line number of the block's first line. */
  line: number;
}

/** Blocks of a script file (blank lines separate them). */
export function parseScript(text: string): ScriptBlock[] {
  const blocks: ScriptBlock[] = [];
  let cur: ScriptBlock | null = null;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (line.trim() === '') {
      cur = null;
      return;
    }
    if (cur === null) blocks.push((cur = { input: [], output: null, line: i + 1 }));
    if (cur.output !== null) cur.output.push(line);
    else if (line === '----') cur.output = [];
    else cur.input.push(line);
  });
  return blocks;
}

/** The file text for these blocks with these outputs (a block without output gets no `----`). */
export function renderScript(blocks: readonly ScriptBlock[], outputs: readonly (readonly string[])[]): string {
  return blocks.map((b, i) => [...b.input, ...(outputs[i]!.length > 0 ? ['----', ...outputs[i]!] : [])].join('\n')).join('\n\n') + '\n';
}

export interface ScriptRun {
  blocks: ScriptBlock[];
  /** Decoded output of each block. */
  outputs: string[][];
  /** The file as it should read (the script with the outputs this run produced). */
  text: string;
  /** The recorded event log and the canonical lines of the live run. */
  built: BuiltScenario;
  /** textDigest of the canonical lines joined by newlines (what `replayLog` reports). */
  digest: string;
  peers: Map<string, Peer>;
}

/** Splits a command line into words; "…" keeps spaces and may be empty. */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) out.push(m[1] ?? m[2]!);
  return out;
}

interface Link {
  socket: number;
  address: string;
  port: number;
  /** The ID the far end writes into bytes 11–14. */
  network: number;
}

interface Uplink {
  socket: number;
  address: string;
  port: number;
  id: number;
}

interface Pending {
  at: number;
  order: number;
  send(): void;
}

/** Runs a script file against a fresh core. `root` resolves the paths it names. */
export function runScript(text: string, opts: { root: string; file?: string }): ScriptRun {
  const blocks = parseScript(text);
  const outputs: string[][] = [];
  const peers = new Map<string, Peer>();
  const links = new Map<string, Link>();
  const uplinks = new Map<string, Uplink>();
  const receivers = new Map<string, Receiver>();
  const salts = new Map<string, number>();
  const config: CoreConfig = scenarioConfig();
  const decoder = new TranscriptDecoder((socket, address, port) => receivers.get(`${socket} ${address}:${port}`) ?? null);
  // Set by commands run from closures (the casts keep TypeScript from narrowing them to null).
  let s = null as Scenario | null;
  let built = null as BuiltScenario | null;
  let pending: Pending[] = [];
  let order = 0;
  /** The wall clock at core time 0 (`start … wall <ms>`). */
  let wall = 0;
  const fbpKey = fbpKeys(SCENARIO_PASSPHRASE);
  let where = '';

  const fail = (msg: string): never => {
    throw new Error(`${opts.file ?? 'script'}:${where}: ${msg}`);
  };
  const core = (): Scenario => s ?? fail('the core has not started (a `start` line is missing)');
  const peerOf = (name: string | undefined): Peer => peers.get(name ?? '') ?? fail(`unknown peer ${JSON.stringify(name)}`);
  const uplinkOf = (name: string | undefined): Uplink => uplinks.get(name ?? '') ?? fail(`unknown uplink ${JSON.stringify(name)}`);
  /** A datagram from a peer, or (when `name` is an uplink) from that uplink's master to its socket. */
  const sendFrom = (name: string | undefined, bytes: Uint8Array): void => {
    const u = uplinks.get(name ?? '');
    if (u !== undefined) core().socketDatagram(u.socket, u.address, u.port, bytes);
    else core().datagram(peerOf(name), bytes);
  };
  /** The peer whose ID a frame from `name` carries: the peer, or the uplink's own peer ID. */
  const senderOf = (name: string | undefined): Peer => {
    const u = uplinks.get(name ?? '');
    return u !== undefined ? { id: u.id, port: u.port, address: u.address } : peerOf(name);
  };
  const linkOf = (name: string | undefined): Link => links.get(name ?? '') ?? fail(`unknown link ${JSON.stringify(name)}`);
  const int = (w: string | undefined, what: string): number => (w !== undefined && /^\d+$/.test(w) ? Number(w) : fail(`${what}: expected a number, got ${JSON.stringify(w)}`));
  const endpoint = (w: string | undefined): { address: string; port: number } => {
    const m = /^(.+):(\d+)$/.exec(w ?? '');
    return m ? { address: m[1]!, port: Number(m[2]) } : fail(`expected <address>:<port>, got ${JSON.stringify(w)}`);
  };
  /** Optional `key value` pairs and flags after the fixed words. */
  const options = (ws: string[], withValue: readonly string[], flags: readonly string[]): Map<string, string> => {
    const o = new Map<string, string>();
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i]!;
      if (withValue.includes(w) && i + 1 < ws.length) o.set(w, ws[++i]!);
      else if (flags.includes(w)) o.set(w, '');
      else fail(`unexpected ${JSON.stringify(w)}`);
    }
    return o;
  };
  /** `<peer> ts<n> <src> -> <dst> stream <id>`, then the rest. */
  const callHead = (ws: string[]): { peer: Peer; slot: 1 | 2; src: number; dst: number; stream: number; rest: string[] } => {
    const slot = ws[1] === 'ts1' ? 1 : ws[1] === 'ts2' ? 2 : fail(`expected ts1 or ts2, got ${JSON.stringify(ws[1])}`);
    if (ws[3] !== '->' || ws[5] !== 'stream') fail('expected <peer> ts<n> <src> -> <dst> stream <id>');
    return { peer: senderOf(ws[0]), slot, src: int(ws[2], 'source'), dst: int(ws[4], 'destination'), stream: int(ws[6], 'stream'), rest: ws.slice(7) };
  };
  /** Send what is queued up to `t` in time order (ties in the order queued). */
  const flush = (t: number): void => {
    pending.sort((a, b) => a.at - b.at || a.order - b.order);
    while (pending.length > 0 && pending[0]!.at <= t) {
      const p = pending.shift()!;
      core().at(p.at);
      p.send();
    }
  };
  const queue = (at: number, send: () => void): void => {
    pending.push({ at, order: order++, send });
  };
  const capture = (file: string | undefined, stream: number): Uint8Array[] => {
    const frames = readPcapUdp(resolve(opts.root, file ?? fail('name the capture file')))
      .map((r) => r.payload)
      .filter((f) => f.length >= 20 && readU32(f, 16) === stream);
    return frames.length > 0 ? frames : fail(`no frame of stream ${stream} in ${file}`);
  };
  const setConfig = (c: CoreConfig, path: string, op: string, value: string): void => {
    let v: unknown;
    try {
      v = JSON.parse(value);
    } catch {
      v = value;
    }
    const keys = path.split('.');
    let o = c as unknown as Record<string, unknown>;
    for (const k of keys.slice(0, -1)) o = (typeof o[k] === 'object' && o[k] !== null ? o[k] : fail(`no config section ${path}`)) as Record<string, unknown>;
    const last = keys[keys.length - 1]!;
    if (!(last in o)) fail(`no config key ${path}`);
    if (op === '+=') (Array.isArray(o[last]) ? (o[last] as unknown[]) : fail(`${path} is not a list`)).push(v);
    else o[last] = v;
  };

  const exec = (ws: string[]): void => {
    const [cmd, ...a] = ws;
    const now = (): number => core().now;
    switch (cmd) {
      case 'peer': {
        const ep = endpoint(a[2]);
        const p: Peer = { id: int(a[1], 'peer id'), port: ep.port, address: ep.address };
        peers.set(a[0] ?? fail('name the peer'), p);
        receivers.set(`0 ${ep.address}:${ep.port}`, { name: a[0]!, peerId: p.id });
        return;
      }
      case 'link': {
        if (s !== null) fail('links are declared before `start`');
        if (a[1] !== 'socket' || a[4] !== 'network') fail('expected link <name> socket <n> <address>:<port> network <id> [fbp]');
        const name = a[0]!;
        const link = { socket: int(a[2], 'socket'), ...endpoint(a[3]) };
        const network = int(a[5], 'network');
        const fbp = options(a.slice(6), [], ['fbp']).has('fbp');
        links.set(name, { ...link, network });
        receivers.set(`${link.socket} ${link.address}:${link.port}`, { name });
        config.links.push({ name, ...link, passphrase: SCENARIO_PASSPHRASE, networkId: network, preserveSourcePeer: false, checkSource: true, talkgroups: [], ...(fbp ? { protocol: 'fbp' as const } : {}) });
        return;
      }
      case 'uplink': {
        if (s !== null) fail('uplinks are declared before `start`');
        if (a[1] !== 'socket' || a[4] !== 'peer') fail('expected uplink <name> socket <n> <address>:<port> peer <id> …');
        const name = a[0]!;
        const u = { socket: int(a[2], 'socket'), ...endpoint(a[3]), id: int(a[5], 'peer') };
        const o = options(a.slice(6), ['options', 'xlx'], ['loose']);
        uplinks.set(name, u);
        receivers.set(`${u.socket} ${u.address}:${u.port}`, { name: `uplink:${name}`, peerId: u.id });
        config.uplinks.push({
          name,
          socket: u.socket,
          address: u.address,
          port: u.port,
          passphrase: SCENARIO_PASSPHRASE,
          peerId: u.id,
          rptc: { callsign: 'N0HUB', rxFreq: '000000000', txFreq: '000000000', txPower: '00', colorCode: '01', latitude: '0.0000', longitude: '0.0000', height: '000', location: '', description: '', slots: '3', url: '', softwareId: 'dmrhub', packageId: 'scenario' },
          options: o.get('options') ?? '',
          ts1: null,
          ts2: null,
          loose: o.has('loose'),
          xlxModule: o.has('xlx') ? int(o.get('xlx'), 'xlx') : 0,
          pingIntervalMs: 5000,
          maxMissedPongs: 3,
          retryMinMs: 1000,
          retryMaxMs: 60_000,
        });
        return;
      }
      case 'master': {
        const u = uplinkOf(a[0]);
        const tag = a[1];
        const rest = a.slice(2);
        const arg = rest.length > 0 && /^\d+$/.test(rest[0]!) ? int(rest.shift(), 'argument') : u.id;
        const o = options(rest, ['from-port'], []);
        const encode = { RPTACK: encodeRptack, MSTNAK: encodeMstnak, MSTPONG: encodeMstpong, MSTCL: encodeMstcl }[tag ?? ''] ?? fail(`expected RPTACK, MSTNAK, MSTPONG or MSTCL, got ${JSON.stringify(tag)}`);
        core().socketDatagram(u.socket, u.address, o.has('from-port') ? int(o.get('from-port'), 'from-port') : u.port, encode(arg));
        return;
      }
      case 'config': {
        const [path, op, ...rest] = a;
        const value = op === '+=' ? rest.join(' ') : [op, ...rest].join(' ');
        if (s === null) setConfig(config, path ?? fail('name a config key'), op ?? '', value);
        else {
          setConfig(config, path ?? fail('name a config key'), op ?? '', value);
          s.configApplied(structuredClone(config));
        }
        return;
      }
      case 'start': {
        if (s !== null) fail('started twice');
        const o = options(a, ['seed', 'wall'], []);
        if (o.has('wall')) wall = int(o.get('wall'), 'wall');
        s = new Scenario({ seed: o.has('seed') ? int(o.get('seed'), 'seed') : 1, config: structuredClone(config), ...(o.has('wall') ? { wallMs: wall } : {}) });
        return;
      }
      case 'wait': {
        const t = now() + int(a[0], 'wait');
        flush(t);
        core().at(t);
        return;
      }
      case 'login': {
        const p = peerOf(a[0]);
        const o = options(a.slice(1), ['options', 'passphrase', 'callsign'], []);
        const opt: { options?: string; passphrase?: string; callsign?: string } = {};
        for (const k of ['options', 'passphrase', 'callsign'] as const) if (o.has(k)) opt[k] = o.get(k)!;
        salts.set(a[0]!, core().login(p, opt));
        return;
      }
      case 'rptl':
        // A bare login request whose answer may be a refusal (a blocked ID); `challenge` expects the salt.
        core().datagram(peerOf(a[0]), encodeRptl(peerOf(a[0]).id));
        return;
      case 'challenge':
        salts.set(a[0]!, core().challenge(peerOf(a[0])));
        return;
      case 'answer': {
        const p = peerOf(a[0]);
        const o = options(a.slice(1), ['passphrase'], []);
        core().answer(p, salts.get(a[0]!) ?? fail(`no salt was given to ${a[0]}`), o.get('passphrase') ?? SCENARIO_PASSPHRASE);
        return;
      }
      case 'ping':
        core().ping(peerOf(a[0]));
        return;
      case 'logout':
        core().logout(peerOf(a[0]));
        return;
      case 'options':
        if (a.length !== 2) fail('expected options <peer> <text> ("" for none)');
        core().options(peerOf(a[0]), a[1]!);
        return;
      case 'call':
      case 'dial': {
        const c = callHead(a);
        const background = c.rest[c.rest.length - 1] === '&';
        const o = options(background ? c.rest.slice(0, -1) : c.rest, ['superframes', 'blocks'], ['private', 'no-terminator', 'data']);
        const dial = cmd === 'dial';
        if (dial && o.size > 0) fail('dial takes no options');
        const frames = o.has('data')
          ? [0x26, ...Array<number>(o.has('blocks') ? int(o.get('blocks'), 'blocks') : 2).fill(0x27)]
          : voiceFrameTypes(dial ? 0 : o.has('superframes') ? int(o.get('superframes'), 'superframes') : 1, !o.has('no-terminator'));
        const t0 = now();
        frames.forEach((frame, seq) => {
          const bytes = dmrd({ peer: c.peer, src: c.src, tg: c.dst, slot: c.slot, streamId: c.stream, seq, frame, private: dial || o.has('private') });
          queue(t0 + 60 * seq, () => sendFrom(a[0], bytes));
        });
        if (!background) flush(Infinity);
        return;
      }
      case 'dmrd': {
        const c = callHead(a);
        if (c.rest[0] !== 'seq') fail('expected seq <n> <phase> after the stream');
        const frame = phaseFlags(c.rest[2] ?? '') ?? fail(`unknown phase ${JSON.stringify(c.rest[2])}`);
        options(c.rest.slice(3), [], ['private']);
        sendFrom(a[0], dmrd({ peer: c.peer, src: c.src, tg: c.dst, slot: c.slot, streamId: c.stream, seq: int(c.rest[1], 'seq'), frame, private: c.rest[3] === 'private' }));
        return;
      }
      case 'alias': {
        const p = peerOf(a[0]);
        const src = int(a[1], 'source');
        const text = a[2] ?? fail('expected alias <peer> <src> <text>');
        const b = new Uint8Array(12 + text.length);
        b.set([0x44, 0x4d, 0x52, 0x41]);
        writeU32(b, 4, p.id);
        writeU24(b, 8, src);
        for (let i = 0; i < text.length; i++) b[12 + i] = text.charCodeAt(i);
        core().datagram(p, b);
        return;
      }
      case 'prompts': {
        const o = options(a.slice(2), ['words', 'ondemand'], []);
        // `synthetic`: the small pack the tests generate (test/support/synthetic-prompts.ts).
        const dir = a[0] === 'synthetic' ? syntheticPromptDir() : resolve(opts.root, a[0] ?? fail('name the prompt directory'));
        const r = loadPromptPack(dir, a[1] ?? fail('name the language'));
        if (!r.ok) fail(r.error);
        const pack = r.ok ? r.pack : null;
        const pick = (list: string | undefined, from: Map<string, Uint8Array>): Record<string, Uint8Array> =>
          Object.fromEntries((list ?? '').split(',').filter((w) => w !== '').map((w) => [w, from.get(w) ?? fail(`no prompt ${w}`)]));
        const data: PromptPackData = { lang: a[1]!, words: pick(o.get('words'), pack!.words), ondemand: pick(o.get('ondemand'), pack!.ondemand) };
        core().promptsLoaded([data]);
        return;
      }
      case 'link-frames': {
        const link = linkOf(a[0]);
        const o = options(a.slice(2), ['stream', 'every'], []);
        const every = o.has('every') ? int(o.get('every'), 'every') : 60;
        const t0 = now();
        capture(a[1], int(o.get('stream'), 'stream')).forEach((f, i) => queue(t0 + every * i, () => core().socketDatagram(link.socket, link.address, link.port, f)));
        flush(Infinity);
        return;
      }
      case 'link-frame': {
        const link = linkOf(a[0]);
        const o = options(a.slice(2), ['stream', 'tg', 'new-stream', 'from-port'], ['bad-mac']);
        const f = capture(a[1], int(o.get('stream'), 'stream'))[0]!.slice();
        writeU24(f, 8, int(o.get('tg'), 'tg'));
        writeU32(f, 16, int(o.get('new-stream'), 'new-stream'));
        signObp(f, obpKey(SCENARIO_PASSPHRASE), hmacSha1);
        if (o.has('bad-mac')) f[72] = f[72]! ^ 0xff;
        core().socketDatagram(link.socket, link.address, o.has('from-port') ? int(o.get('from-port'), 'from-port') : link.port, f);
        return;
      }
      case 'link-fbp-frames': {
        const link = linkOf(a[0]);
        const o = options(a.slice(2), ['stream', 'every', 'tg', 'new-stream', 'hops', 'source', 'count', 'age'], ['bad-mac']);
        const every = o.has('every') ? int(o.get('every'), 'every') : 60;
        let frames = capture(a[1], int(o.get('stream'), 'stream'));
        if (frames.some((f) => f.length !== 89)) fail('expected DMRE v5 frames (89 bytes)');
        if (o.has('count')) frames = frames.slice(0, int(o.get('count'), 'count'));
        const age = o.has('age') ? int(o.get('age'), 'age') : 0;
        const t0 = now();
        frames.forEach((captured, i) => {
          const f = captured.slice();
          writeU32(f, 11, link.network);
          if (o.has('tg')) writeU24(f, 8, int(o.get('tg'), 'tg'));
          if (o.has('new-stream')) writeU32(f, 16, int(o.get('new-stream'), 'new-stream'));
          if (o.has('hops')) setDmreHops(f, int(o.get('hops'), 'hops'));
          if (o.has('source')) writeU32(f, DMRE.SOURCE_SERVER, int(o.get('source'), 'source'));
          const at = t0 + every * i;
          setDmreTimeMs(f, wall + at - age);
          signDmre(f, fbpKey.blake2b);
          if (o.has('bad-mac')) f[88] = f[88]! ^ 0xff;
          queue(at, () => core().socketDatagram(link.socket, link.address, link.port, f));
        });
        flush(Infinity);
        return;
      }
      case 'link-bc': {
        const link = linkOf(a[0]);
        const kind = a[1];
        let f: Uint8Array;
        let rest: string[];
        if (kind === 'bcka' || kind === 'bcst') [f, rest] = [encodeBc({ kind }, fbpKey.hmac), a.slice(2)];
        else if (kind === 'bcve') [f, rest] = [encodeBc({ kind, version: int(a[2], 'version') }, fbpKey.hmac), a.slice(3)];
        else if (kind === 'bcsq') [f, rest] = [encodeBc({ kind, tg: int(a[2], 'tg'), streamId: int(a[3], 'stream') }, fbpKey.hmac), a.slice(4)];
        else return fail(`expected bcka, bcve <version>, bcsq <tg> <stream> or bcst, got ${JSON.stringify(kind)}`);
        const o = options(rest, ['from-port'], ['bad-mac']);
        if (o.has('bad-mac')) f[f.length - 1] = f[f.length - 1]! ^ 0xff;
        core().socketDatagram(link.socket, link.address, o.has('from-port') ? int(o.get('from-port'), 'from-port') : link.port, f);
        return;
      }
      case 'operator': {
        // operator <id> disconnect|block|options|dial-drop <peer> [seconds|options text|slot]
        const id = int(a[0], 'command id');
        const peer = peerOf(a[2]).id;
        const op = a[1];
        if (op === 'disconnect') core().operator(id, { op, peer });
        else if (op === 'block') core().operator(id, { op, peer, seconds: int(a[3], 'seconds') });
        else if (op === 'options') core().operator(id, { op, peer, options: a[3] ?? fail('give the options text') });
        else if (op === 'dial-drop') core().operator(id, { op, peer, slot: a[3] === '1' ? 1 : a[3] === '2' ? 2 : fail('expected slot 1 or 2') });
        else fail(`expected disconnect, block, options or dial-drop, got ${JSON.stringify(op)}`);
        return;
      }
      case 'shutdown':
        flush(Infinity);
        built = core().shutdown(now());
        return;
      default:
        fail(`unknown command ${JSON.stringify(cmd)}`);
    }
  };

  for (const b of blocks) {
    const before = s?.actions.length ?? 0;
    b.input.forEach((line, i) => {
      where = String(b.line + i);
      if (line.startsWith('#')) return;
      if (built !== null) fail('nothing may follow `shutdown`');
      const ws = words(line);
      if (ws[0]?.startsWith('@')) {
        const t = int(ws.shift()!.slice(1), 'time');
        flush(t);
        core().at(t);
      }
      if (ws.length > 0) exec(ws);
    });
    if (pending.length > 0) flush(Infinity);
    pending = [];
    const lines = s === null ? [] : s.actions.slice(before);
    outputs.push(decoder.lines(lines));
  }
  where = 'end';
  const done: BuiltScenario = built ?? fail('the script does not end with `shutdown`');
  const digest = textDigest(done.liveLines.join('\n'));
  outputs[outputs.length - 1]!.push(`digest ${digest}`);
  return { blocks, outputs, text: renderScript(blocks, outputs), built: done, digest, peers };
}
