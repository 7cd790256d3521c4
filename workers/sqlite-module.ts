// better-sqlite3 is an optional dependency: a native module that must be compiled where no
// prebuilt binary fits (a Raspberry Pi, a musl system, a new Node). It is loaded here, on first
// use, by the SQLite sink and by `dmrhub lastheard` only; a server with [sql] enabled = false never
// loads it, and an install without it (npm ci --omit=optional) runs. When it is missing or does
// not load, the error says which, and what to do, instead of a module-resolution stack trace.

import type BetterSqlite3 from 'better-sqlite3';
import { fileURLToPath } from 'node:url';

export type DatabaseConstructor = typeof BetterSqlite3;

export const SQLITE_MODULE = 'better-sqlite3';

/** The package directory (dist/workers/../..), for the advice in messages. */
const PACKAGE_DIR = fileURLToPath(new URL('../../', import.meta.url));

/** The first line of an error, without the require stack Node appends (or the list of paths tried). */
const firstLine = (err: unknown): string =>
  (err instanceof Error ? err.message : String(err))
    .split('\n')[0]!
    .trim()
    .replace(/[\s.:]*(Tried:)?[\s.:]*$/, '');

/** Why the module cannot be used, as one paragraph for an operator. */
export function sqliteLoadProblem(err: unknown, moduleName = SQLITE_MODULE): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const notInstalled = (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && firstLine(err).includes(`'${moduleName}'`);
  const fixes =
    `Either install it (in a clone: \`npm install\` in ${PACKAGE_DIR}, without --omit=optional; a global install: ` +
    `\`npm install -g --allow-scripts=better-sqlite3 <the dmrhub package>\`; where no prebuilt binary fits, as on a ` +
    `Raspberry Pi, it is compiled and needs python3, make and g++), or set enabled = false in the [sql] section of the config ` +
    `(no lastheard, no call log).`;
  if (notInstalled) return `SQLite reporting ([sql] enabled) needs the optional module ${moduleName}, which is not installed. ${fixes}`;
  return (
    `the optional module ${moduleName} is installed but does not load (${firstLine(err)}): it was installed without ` +
    `running its build script, or built for another Node version (rebuild it: \`npm rebuild ${moduleName}\` in ` +
    `${PACKAGE_DIR}, as the owner of that directory). ${fixes}`
  );
}

/** An Error whose message is the whole explanation (no stack is worth showing). */
export class SqliteUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SqliteUnavailable';
  }
}

/**
 * The Database constructor, loaded now; a SqliteUnavailable when the module is absent or its native
 * part does not load. Opening an in-memory database proves the native binding works.
 */
export async function loadSqlite(moduleName = SQLITE_MODULE): Promise<DatabaseConstructor> {
  try {
    const mod = (await import(moduleName)) as { default: DatabaseConstructor };
    new mod.default(':memory:').close();
    return mod.default;
  } catch (err) {
    throw new SqliteUnavailable(sqliteLoadProblem(err, moduleName));
  }
}
