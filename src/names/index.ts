// Subscriber and talkgroup names from the files operators download (RadioID user.csv and
// users.json, FreeDMR subscriber_ids.json and talkgroup_ids.json), for the console, the log lines
// and `dmrhub lastheard`. Loading never runs on the packet path: `loadNames` parses in a
// short-lived child process when it runs from the build (./spawn.ts), and reads the finished
// tables into shared memory, so the parsing garbage goes away with that process, and the tables
// can be handed to another thread without a copy. A store is immutable; a reload builds a new one
// and whoever holds it swaps one reference.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NamesFileError, readNamesFile, type FileReport, type NamesKind } from './read.js';
import { PackedTable, TableBuilder, type TableData } from './table.js';
import { parseInProcess } from './spawn.js';

export { NamesFileError, type FileReport } from './read.js';

/** The console contract (docs/console.md). */
export interface NameStore {
  subscriber(id: number): { callsign: string; name?: string } | undefined;
  talkgroup(id: number): string | undefined;
  readonly subscriberCount: number;
  readonly talkgroupCount: number;
}

export interface NamesFiles {
  subscribers?: string[];
  talkgroups?: string[];
}

/** What a store can be posted to another thread as: the tables' shared arrays, no copy. */
export interface SharedNames {
  subscribers: TableData;
  talkgroups: TableData;
  files: FileReport[];
}

export class LoadedNames implements NameStore {
  private constructor(
    private readonly subs: PackedTable,
    private readonly tgs: PackedTable,
    /** One report per file read, with the skipped records' places. */
    readonly files: readonly FileReport[],
  ) {}

  static from(shared: SharedNames): LoadedNames {
    return new LoadedNames(PackedTable.from(shared.subscribers), PackedTable.from(shared.talkgroups), shared.files);
  }

  static empty(): LoadedNames {
    return new LoadedNames(PackedTable.empty(), PackedTable.empty(), []);
  }

  subscriber(id: number): { callsign: string; name?: string } | undefined {
    const i = this.subs.indexOf(id);
    if (i < 0) return undefined;
    const name = this.subs.nameAt(i);
    return name === undefined ? { callsign: this.subs.callsignAt(i) } : { callsign: this.subs.callsignAt(i), name };
  }

  talkgroup(id: number): string | undefined {
    const i = this.tgs.indexOf(id);
    return i < 0 ? undefined : this.tgs.callsignAt(i);
  }

  get subscriberCount(): number {
    return this.subs.size;
  }

  get talkgroupCount(): number {
    return this.tgs.size;
  }

  /** Bytes held by the tables (their shared arrays). */
  byteLength(): number {
    return this.subs.byteLength() + this.tgs.byteLength();
  }

  /** For postMessage to another thread: the same memory, seen from there with `LoadedNames.from`. */
  share(): SharedNames {
    return { subscribers: this.subs.data(), talkgroups: this.tgs.data(), files: [...this.files] };
  }
}

export interface LoadOptions {
  /** Parse in a short-lived child process (default: when running from the build, where its file exists);
   *  false parses in the calling thread, awaiting between chunks. */
  isolated?: boolean;
}

/** The compiled child beside this module; absent when running from the TypeScript sources. */
const CHILD = fileURLToPath(new URL('./load-child.js', import.meta.url));
const childAvailable = (): boolean => import.meta.url.endsWith('.js') && existsSync(CHILD);

/**
 * Reads the files into a new store. Later files win over earlier ones for the same ID (list the
 * big download first and your own corrections after it). Rejects with a NamesFileError naming the
 * file and line when a file cannot be used; a record without an ID or callsign is skipped and
 * counted in `files` instead.
 */
export async function loadNames(files: NamesFiles, opts: LoadOptions = {}): Promise<LoadedNames> {
  const isolated = opts.isolated ?? childAvailable();
  return LoadedNames.from(isolated ? await parseInProcess(files, CHILD) : await parseNames(files));
}

/** Parses in the calling thread (awaiting between chunks); the child process runs this. */
export async function parseNames(files: NamesFiles): Promise<SharedNames> {
  const reports: FileReport[] = [];
  const table = async (kind: NamesKind, paths: string[] | undefined): Promise<TableData> => {
    const builder = new TableBuilder();
    for (const path of paths ?? []) reports.push(await readNamesFile(path, kind, builder));
    return builder.finish().data();
  };
  const subscribers = await table('subscribers', files.subscribers);
  const talkgroups = await table('talkgroups', files.talkgroups);
  return { subscribers, talkgroups, files: reports };
}
