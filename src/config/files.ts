// The files and directories a config names, checked when it is loaded from a file (check-config, the
// server's start and every reload): a TLS file that is not there, a prompts directory that is not
// a directory, a recording or database directory that cannot be made, each as a ConfigError on the
// key's line. Directories the server makes itself (record, flight recorder, SQL) only need their
// nearest existing ancestor to be a writable directory.

import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { locateKey } from './locate.js';
import type { AppConfig, ConfigError } from './types.js';

function stat(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function problemOf(err: unknown): string {
  const code = (err as { code?: string }).code;
  return code === 'EACCES' || code === 'EPERM' ? 'no permission' : err instanceof Error ? err.message : String(err);
}

/** A file that must exist and be readable, or why not. */
function readableFile(path: string): string | null {
  const s = stat(path);
  if (s === null) return `${path} does not exist`;
  if (!s.isFile()) return `${path} is not a file`;
  try {
    accessSync(path, constants.R_OK);
  } catch (err) {
    return `${path} cannot be read (${problemOf(err)})`;
  }
  return null;
}

/** A directory that must exist, or why not. */
function existingDirectory(path: string): string | null {
  const s = stat(path);
  if (s === null) return `${path} does not exist`;
  if (!s.isDirectory()) return `${path} is not a directory`;
  return null;
}

/** A directory the server may create (mkdir -p): it, or its nearest existing ancestor, must be a writable directory. */
function creatableDirectory(path: string): string | null {
  let p = path;
  for (;;) {
    const s = stat(p);
    if (s !== null) {
      if (!s.isDirectory()) return p === path ? `${path} is not a directory` : `${path} cannot be made: ${p} is not a directory`;
      try {
        accessSync(p, constants.W_OK);
      } catch (err) {
        return `${path} cannot be written: ${p} is not writable (${problemOf(err)})`;
      }
      return null;
    }
    const up = dirname(p);
    if (up === p) return `${path} cannot be made`;
    p = up;
  }
}

/** A file the server writes: not a directory, and its directory creatable. */
function writableFile(path: string): string | null {
  const s = stat(path);
  if (s !== null && s.isDirectory()) return `${path} is a directory, not a file`;
  const problem = creatableDirectory(dirname(path));
  return problem === null ? null : `${path} cannot be written: ${problem}`;
}

/** Problems with the files and directories `app` names; `text` is the file's text (for lines). */
export function checkConfigFiles(app: AppConfig, text: string): ConfigError[] {
  const errors: ConfigError[] = [];
  const add = (key: string, problem: string | null): void => {
    if (problem !== null) errors.push({ key, line: locateKey(text, key), message: problem });
  };
  if (app.mqtt.url !== '') {
    if (app.mqtt.caFile !== '') add('mqtt.ca_file', readableFile(app.mqtt.caFile));
    if (app.mqtt.certFile !== '') add('mqtt.cert_file', readableFile(app.mqtt.certFile));
    if (app.mqtt.keyFile !== '') add('mqtt.key_file', readableFile(app.mqtt.keyFile));
  }
  if (app.prompts.directory !== '') add('prompts.directory', existingDirectory(app.prompts.directory));
  if (app.record.enabled) add('record.path', writableFile(app.record.path));
  if (app.record.flightRecorderEvents > 0) add('record.flight_recorder_dir', creatableDirectory(app.record.flightRecorderDir));
  if (app.sql.enabled) add('sql.path', writableFile(app.sql.path));
  return errors.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
}
