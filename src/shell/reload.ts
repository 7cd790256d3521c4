// What a SIGHUP reload changes and what waits for a restart. Every key of the config is one or the
// other: the core's sections apply at once (a `config-applied` event); the reporting sinks
// ([mqtt], [sql], [reporting], server.name) are restarted with the new settings, their queues
// kept; the recording ([record] enabled/path) switches to the new file; log.level and the
// prompts apply. What cannot change in a running process is named in one warning per reload:
// sockets (hbp.address, hbp.port, hbp.recv_buffer_bytes, links' and uplinks' local sockets), the
// flight recorder's size, and log.pretty (the log's writer thread is made at start).

import type { AppConfig } from '../config/types.js';
import type { CoreConfig } from '../core/index.js';

export interface ReloadPlan {
  /** The config to run with from now on (running values kept where a restart is needed). */
  app: AppConfig;
  /** The core config to hand to the core. */
  core: CoreConfig;
  /** Keys that changed in the file but wait for a restart, as the file names them. */
  restartKeys: string[];
  /** Links and uplinks whose sockets changed (their names), kept as they run. */
  restartLinks: string[];
  restartUplinks: string[];
  /** The reporting sinks' settings changed: restart them. */
  reporting: boolean;
  /** The recording's settings changed: switch files. */
  record: boolean;
  /** The prompts' settings changed: read the packs again. */
  prompts: boolean;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Work out a reload from the running config and the one just loaded. `withVersion` fills in what
 * the core needs from the shell (the uplinks' package ID).
 */
export function planReload(run: AppConfig, next: AppConfig, withVersion: (c: CoreConfig) => CoreConfig): ReloadPlan {
  const restartKeys: string[] = [];
  if (next.hbp.address !== run.hbp.address) restartKeys.push('hbp.address');
  if (next.hbp.port !== run.hbp.port) restartKeys.push('hbp.port');
  if (next.hbp.recvBufferBytes !== run.hbp.recvBufferBytes) restartKeys.push('hbp.recv_buffer_bytes');
  if (next.record.flightRecorderEvents !== run.record.flightRecorderEvents) restartKeys.push('record.flight_recorder_events');
  if (next.log.pretty !== run.log.pretty) restartKeys.push('log.pretty');

  let core = next.core;
  let restartLinks: string[] = [];
  if (!same(next.links, run.links)) {
    // Sockets open at start: links added, removed, renamed or moved to another local port wait
    // for a restart, and until then the running links stay as they are.
    restartLinks = [...new Set([...next.links, ...run.links].map((l) => l.name))].filter((n) => !same(next.links.find((l) => l.name === n), run.links.find((l) => l.name === n)));
    core = { ...core, links: run.core.links };
  }
  core = withVersion(core);
  let restartUplinks: string[] = [];
  if (!same(next.uplinks, run.uplinks)) {
    restartUplinks = [...new Set([...next.uplinks, ...run.uplinks].map((u) => u.name))].filter((n) => !same(next.uplinks.find((u) => u.name === n), run.uplinks.find((u) => u.name === n)));
    core = { ...core, uplinks: run.core.uplinks };
  } else {
    // The same uplinks on the same sockets (socket numbers follow the running links).
    core = { ...core, uplinks: core.uplinks.map((u) => ({ ...u, socket: run.core.uplinks.find((o) => o.name === u.name)!.socket })) };
  }

  const reporting = !same(next.mqtt, run.mqtt) || !same(next.sql, run.sql) || !same(next.reporting, run.reporting) || next.server.name !== run.server.name;
  const record = next.record.enabled !== run.record.enabled || next.record.path !== run.record.path;
  const app: AppConfig = {
    ...next,
    core,
    hbp: run.hbp,
    links: run.links,
    uplinks: run.uplinks,
    record: { ...next.record, flightRecorderEvents: run.record.flightRecorderEvents },
    log: { ...next.log, pretty: run.log.pretty },
  };
  return { app, core, restartKeys, restartLinks, restartUplinks, reporting, record, prompts: !same(next.prompts, run.prompts) };
}
