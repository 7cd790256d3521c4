// `dmrhub import-freedmr FreeDMR.cfg [rules.py] [--out FILE]`: the command around ./freedmr.ts.
// The TOML goes to stdout, or to FILE with mode 0600 (it holds passphrases); the report goes to
// stderr. Exit codes: 0 done (with or without report lines), 1 unreadable or malformed input,
// 2 a usage error.

import { closeSync, fchmodSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfigText } from '../config/load.js';
import { formatConfigErrors } from '../config/types.js';
import { importFreeDmr } from './freedmr.js';
import { ImportError } from './ini.js';

export const IMPORT_USAGE = 'dmrhub import-freedmr FreeDMR.cfg [rules.py] [--out FILE]';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processIo: CliIo = { stdout: (t) => void process.stdout.write(t), stderr: (t) => void process.stderr.write(t) };

export function runImportFreeDmr(args: string[], io: CliIo = processIo): number {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { out: { type: 'string', short: 'o' } } });
  } catch (err) {
    io.stderr(`import-freedmr: ${(err as Error).message}\nusage: ${IMPORT_USAGE}\n`);
    return 2;
  }
  const [cfgPath, rulesPath, ...extra] = parsed.positionals;
  if (!cfgPath || extra.length > 0) {
    io.stderr(`import-freedmr: ${cfgPath ? 'too many arguments' : 'name the FreeDMR config file'}\nusage: ${IMPORT_USAGE}\n`);
    return 2;
  }
  const out = parsed.values.out;
  try {
    const cfgText = read(cfgPath);
    const rules = rulesPath ? { text: read(rulesPath), file: rulesPath } : undefined;
    const result = importFreeDmr(cfgText, cfgPath, rules);
    // Whatever is written must load: check it the way check-config does before it leaves.
    const checked = parseConfigText(result.toml, dirname(resolve(out ?? cfgPath)), out ?? null);
    if (!checked.ok) {
      io.stderr(`${formatConfigErrors(checked.errors, out ?? '(imported config)')}\nimport-freedmr: the imported config does not pass dmrhub's own check; nothing written\n`);
      return 1;
    }
    if (out) writePrivate(out, result.toml);
    else io.stdout(result.toml);
    for (const line of result.report) io.stderr(line + '\n');
    const counts = new Map<string, number>();
    for (const line of result.report) {
      const verdict = /: (not needed|not mapped|not supported yet|ignored|changed): /.exec(line)?.[1] ?? 'other';
      counts.set(verdict, (counts.get(verdict) ?? 0) + 1);
    }
    const summary = [...counts].map(([v, n]) => `${n} ${v}`).join(', ') || 'everything carried over';
    io.stderr(`import-freedmr: ${summary}${out ? `; wrote ${out} (mode 0600)` : ''}\n`);
    return 0;
  } catch (err) {
    if (err instanceof ImportError) {
      io.stderr(`${err.message}\nimport-freedmr: nothing written\n`);
      return 1;
    }
    throw err;
  }
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory, not a file' : code === 'EACCES' ? 'no permission to read it' : (err as Error).message;
    throw new ImportError(path, null, `cannot read: ${why}`);
  }
}

/** Writes a file only its owner can read, also when it existed before with wider permissions. */
function writePrivate(path: string, text: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'w', 0o600);
  } catch (err) {
    throw new ImportError(path, null, `cannot write: ${(err as Error).message}`);
  }
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
