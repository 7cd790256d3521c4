// Which config file a command uses: the one named with --config, else ./dmrhub.toml, else
// /etc/dmrhub/dmrhub.toml. No search beyond these and no merging: one file, named in the first log
// line, so an operator always knows which file the server is running with.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** The system-wide config (the systemd unit's ConfigurationDirectory). */
export const SYSTEM_CONFIG = '/etc/dmrhub/dmrhub.toml';
/** The config in the working directory. */
export const LOCAL_CONFIG = 'dmrhub.toml';

export type ConfigSource = '--config' | 'working directory' | 'system';

export type FoundConfig = { ok: true; path: string; source: ConfigSource } | { ok: false; tried: string[]; message: string };

export interface FindOptions {
  cwd?: string;
  exists?: (path: string) => boolean;
  /** Overrides SYSTEM_CONFIG (tests). */
  systemConfig?: string;
}

/**
 * The config file to use. A file named with --config is taken as it is, even when it does not
 * exist (the loader then says so, naming it); the defaults are tried in order.
 */
export function findConfig(explicit: string | undefined, opts: FindOptions = {}): FoundConfig {
  const cwd = opts.cwd ?? process.cwd();
  if (explicit !== undefined) return { ok: true, path: resolve(cwd, explicit), source: '--config' };
  const exists = opts.exists ?? existsSync;
  const candidates: [string, ConfigSource][] = [
    [resolve(cwd, LOCAL_CONFIG), 'working directory'],
    [opts.systemConfig ?? SYSTEM_CONFIG, 'system'],
  ];
  for (const [path, source] of candidates) if (exists(path)) return { ok: true, path, source };
  const tried = candidates.map(([p]) => p);
  return {
    ok: false,
    tried,
    message:
      `no config file: tried --config (not given), ${tried.join(', ')}.\n` +
      `Write one with \`dmrhub init\` (here) or \`dmrhub init /etc/dmrhub\`, or name one with --config FILE.`,
  };
}
