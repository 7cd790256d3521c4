// The names store (src/names): the file formats operators download, the errors a bad file gets,
// the packed table, and 250,000 synthetic subscribers checked against a reference map. These run
// the parser in the test's own thread; the child-process loader, the added resident memory and
// the server's use of names are in test/e2e/names.e2e.test.ts.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fullName, synthSubscribers, writeUserCsv, writeUsersJson } from '../../bench/lib/names-synth.js';
import { LoadedNames, loadNames, NamesFileError, parseNames } from '../../src/names/index.js';
import { splitCsvLine } from '../../src/names/read.js';
import { parseInProcess } from '../../src/names/spawn.js';
import { MAX_CALLSIGN_BYTES, MAX_NAME_BYTES, PackedTable, TableBuilder } from '../../src/names/table.js';
import { callNames, describe as describeEntry } from '../../src/shell/logger.js';
import { FIXTURES } from '../support/fixtures.js';

const fx = (name: string): string => join(FIXTURES, 'names', name);
const inline = { isolated: false };
const tmp = mkdtempSync(join(tmpdir(), 'dmrhub-names-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The rejection of a load, or a failure when it loaded. */
async function refusal(p: Promise<unknown>): Promise<NamesFileError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NamesFileError);
  return err as NamesFileError;
}

describe('names files', () => {
  it('reads RadioID user.csv: quoted fields, doubled quotes, CRLF, UTF-8, an empty surname', async () => {
    const s = await loadNames({ subscribers: [fx('user.csv')] }, inline);
    expect(s.subscriberCount).toBe(4);
    expect(s.subscriber(2340001)).toEqual({ callsign: 'M0TST', name: 'Alice Example' });
    expect(s.subscriber(2340002)).toEqual({ callsign: 'G4XYZ', name: 'Bob "Bobby" Sample-Jones' });
    expect(s.subscriber(3100003)).toEqual({ callsign: 'N0CALL', name: 'Carol' });
    expect(s.subscriber(2620004)).toEqual({ callsign: 'DL1ÄÖ', name: 'Jörg Müßig' });
    expect(s.subscriber(2340003)).toBeUndefined();
    expect(s.files).toEqual([{ path: fx('user.csv'), format: 'csv', records: 4, skipped: 0, warnings: [] }]);
  });

  it('reads RadioID users.json (one line, non-Latin names, \\u escapes)', async () => {
    const s = await loadNames({ subscribers: [fx('users.json')] }, inline);
    expect(s.subscriberCount).toBe(3);
    expect(s.subscriber(2500005)).toEqual({ callsign: 'R1AB', name: 'Dmitri Петров' });
    expect(s.subscriber(4400006)).toEqual({ callsign: 'JA1EVE', name: 'Eve 山田' });
    expect(s.files[0]?.format).toBe('json');
  });

  it('reads FreeDMR subscriber_ids.json (IDs as strings, "count" ignored, a record without a name)', async () => {
    const s = await loadNames({ subscribers: [fx('subscriber_ids.json')] }, inline);
    expect(s.subscriberCount).toBe(3);
    expect(s.subscriber(5050007)).toEqual({ callsign: 'VK2QQ', name: 'Frank' });
    expect(s.subscriber(1234567)).toEqual({ callsign: 'HB9ZZ' });
  });

  it('reads FreeDMR talkgroup_ids.json: the callsign field is the talkgroup name', async () => {
    const s = await loadNames({ talkgroups: [fx('talkgroup_ids.json')] }, inline);
    expect(s.talkgroupCount).toBe(4);
    expect(s.subscriberCount).toBe(0);
    expect(s.talkgroup(91)).toBe('Worldwide');
    expect(s.talkgroup(3100)).toBe('USA Nationwide');
    expect(s.talkgroup(92)).toBeUndefined();
    expect(s.subscriber(91)).toBeUndefined();
  });

  it('a later file wins for the same ID, and files of different formats mix', async () => {
    const s = await loadNames({ subscribers: [fx('user.csv'), fx('users.json'), fx('subscriber_ids.json')] }, inline);
    expect(s.subscriber(2340001)).toEqual({ callsign: 'M0NEW', name: 'Alice Renamed' });
    expect(s.subscriberCount).toBe(4 + 2 + 2); // 2340001 is in all three
    const other = await loadNames({ subscribers: [fx('subscriber_ids.json'), fx('user.csv')] }, inline);
    expect(other.subscriber(2340001)).toEqual({ callsign: 'M0TST', name: 'Alice Example' });
  });

  it('reads a Latin-1 file as Latin-1', async () => {
    const s = await loadNames({ subscribers: [fx('latin1.json')] }, inline);
    expect(s.subscriber(2080008)).toEqual({ callsign: 'F1ABC', name: 'René Léger' });
  });

  it('skips records without a usable ID or callsign, naming their lines', async () => {
    const s = await loadNames({ subscribers: [fx('some-bad.csv')] }, inline);
    expect(s.subscriberCount).toBe(2);
    expect(s.subscriber(2340005)).toEqual({ callsign: 'M0OK', name: 'Fine' });
    const f = fx('some-bad.csv');
    expect(s.files[0]).toMatchObject({ records: 2, skipped: 3 });
    expect(s.files[0]?.warnings).toEqual([
      `${f}:3: no valid ID (1..4294967295); skipped`,
      `${f}:4: no callsign; skipped`,
      `${f}:5: no valid ID (1..4294967295); skipped`,
    ]);
  });

  it('reads talkgroups from CSV with a TG and a NAME column', async () => {
    const path = join(tmp, 'tgs.csv');
    writeFileSync(path, 'TG,NAME\n91,Worldwide\n2350,"UK, Wales"\n');
    const s = await loadNames({ talkgroups: [path] }, inline);
    expect([s.talkgroup(91), s.talkgroup(2350), s.talkgroupCount]).toEqual(['Worldwide', 'UK, Wales', 2]);
  });

  it('a byte-order mark and blank lines are allowed', async () => {
    const path = join(tmp, 'bom.csv');
    writeFileSync(path, '\ufeff\nRADIO_ID,CALLSIGN,FIRST_NAME,LAST_NAME\n\n7,X7X,Seven,\n');
    const s = await loadNames({ subscribers: [path] }, inline);
    expect(s.subscriber(7)).toEqual({ callsign: 'X7X', name: 'Seven' });
  });
});

describe('a file that cannot be used is refused with its place', () => {
  it('JSON cut short (an interrupted download)', async () => {
    const e = await refusal(loadNames({ subscribers: [fx('truncated.json')] }, inline));
    expect(e.message).toBe(`${fx('truncated.json')}:4: unexpected end of file (cut short?)`);
    expect(e.line).toBe(4);
  });

  it('a record that is not valid JSON', async () => {
    const e = await refusal(loadNames({ subscribers: [fx('bad-record.json')] }, inline));
    expect(e.message).toMatch(new RegExp(`^${fx('bad-record.json')}:3: record 2 is not valid JSON: `));
  });

  it('CSV without an ID column, with an unterminated quote, or empty', async () => {
    expect((await refusal(loadNames({ subscribers: [fx('no-id-column.csv')] }, inline))).message).toBe(
      `${fx('no-id-column.csv')}:1: the header row has no ID column: expected an ID column (RADIO_ID or ID) and a CALLSIGN column, got "DMR,CALL,NAME"`,
    );
    expect((await refusal(loadNames({ subscribers: [fx('unterminated.csv')] }, inline))).message).toBe(`${fx('unterminated.csv')}:5: unterminated quoted field`);
    const empty = join(tmp, 'empty.json');
    writeFileSync(empty, ' \n');
    expect((await refusal(loadNames({ subscribers: [empty] }, inline))).message).toBe(`${empty}: the file is empty`);
  });

  it('JSON without a list of records, or with something else in the list', async () => {
    const noList = join(tmp, 'nolist.json');
    writeFileSync(noList, '{"count": 0, "note": "none"}');
    expect((await refusal(loadNames({ subscribers: [noList] }, inline))).message).toMatch(/nolist\.json: no list of records found/);
    const numbers = join(tmp, 'numbers.json');
    writeFileSync(numbers, '{"results": [\n{"id": 1, "callsign": "A1A"},\n 2]}');
    expect((await refusal(loadNames({ subscribers: [numbers] }, inline))).message).toBe(`${numbers}:3: record 2: expected a JSON object in the list of records`);
    const text = join(tmp, 'text.json');
    writeFileSync(text, '{"users": []} trailing');
    expect((await refusal(loadNames({ subscribers: [text] }, inline))).message).toBe(`${text}:1: unexpected text after the end of the JSON document`);
  });

  it('a missing file, and a file with no usable record', async () => {
    const missing = join(tmp, 'absent.csv');
    expect((await refusal(loadNames({ subscribers: [missing] }, inline))).message).toMatch(new RegExp(`^${missing}: cannot open: ENOENT`));
    const none = join(tmp, 'none.csv');
    writeFileSync(none, 'RADIO_ID,CALLSIGN\nx,A1A\n');
    expect((await refusal(loadNames({ subscribers: [none] }, inline))).message).toBe(`${none}: no usable records (1 skipped); first: ${none}:2: no valid ID (1..4294967295); skipped`);
  });
});

describe('the loader process', () => {
  it('one that dies without a reply is an error saying why, not a hang', async () => {
    const child = join(tmp, 'dies.mjs');
    writeFileSync(child, "process.stderr.write('out of luck\\n'); process.exit(3);\n");
    await expect(parseInProcess({ subscribers: [fx('user.csv')] }, child)).rejects.toThrow('names loader ended without a reply: out of luck');
  });
});

describe('the packed table', () => {
  it('sorts, keeps the last of equal IDs, and finds every ID and no other', () => {
    const b = new TableBuilder();
    const ref = new Map<number, [string, string]>();
    let x = 12345;
    for (let i = 0; i < 5000; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      const id = (x % 3000) + 1; // many repeats
      const cs = `C${i}`;
      const name = i % 7 === 0 ? '' : `Name ${i}`;
      b.add(id, cs, name);
      ref.set(id, [cs, name]);
    }
    b.add(0xffff_ffff, 'MAX', 'Top');
    ref.set(0xffff_ffff, ['MAX', 'Top']);
    const t = b.finish();
    expect(t.size).toBe(ref.size);
    for (let i = 1; i < t.size; i++) expect(t.idAt(i)).toBeGreaterThan(t.idAt(i - 1));
    for (const [id, [cs, name]] of ref) {
      const i = t.indexOf(id);
      expect(t.callsignAt(i)).toBe(cs);
      expect(t.nameAt(i)).toBe(name === '' ? undefined : name);
    }
    for (const id of [0, 3001, 0xffff_fffe]) expect(t.indexOf(id)).toBe(-1);
  });

  it('cuts long text at a character boundary', () => {
    const b = new TableBuilder();
    b.add(1, 'K'.repeat(40), 'é'.repeat(60));
    const t = b.finish();
    expect(t.callsignAt(0)).toBe('K'.repeat(MAX_CALLSIGN_BYTES));
    expect(t.nameAt(0)).toBe('é'.repeat(MAX_NAME_BYTES / 2));
  });

  it('an empty table, and arrays that do not fit together, are told apart', () => {
    expect(PackedTable.empty().indexOf(1)).toBe(-1);
    expect(LoadedNames.empty().subscriber(1)).toBeUndefined();
    expect(() => PackedTable.from({ ids: new Uint32Array(2), offsets: new Uint32Array(2), split: new Uint8Array(2), bytes: new Uint8Array(0) })).toThrow(/inconsistent/);
  });

  it('a store seen through its shared arrays answers the same', async () => {
    const s = await loadNames({ subscribers: [fx('user.csv')], talkgroups: [fx('talkgroup_ids.json')] }, inline);
    const shared = s.share();
    expect(shared.subscribers.ids.buffer).toBeInstanceOf(SharedArrayBuffer);
    const again = LoadedNames.from(structuredClone(shared));
    expect(again.subscriber(2620004)).toEqual(s.subscriber(2620004));
    expect(again.talkgroup(235)).toBe('UK Wide');
  });
});

describe('names in the log lines', () => {
  it('a call line names the talker and the talkgroup; a private call names no talkgroup; other lines none', async () => {
    const s = await loadNames({ subscribers: [fx('user.csv')], talkgroups: [fx('talkgroup_ids.json')] }, inline);
    const start = { code: 'call.start', level: 'info', peer: 310001, src: 2340001, tg: 235, slot: 2 } as const;
    const n = callNames(start, s);
    expect(n).toEqual({ srcCallsign: 'M0TST', srcName: 'Alice Example', tgName: 'UK Wide' });
    expect(describeEntry(start, n)).toBe('call start: 2340001 M0TST (Alice Example) → TG 235 (UK Wide) TS2 from peer 310001');
    expect(describeEntry(start)).toBe('call start: 2340001 → TG 235 TS2 from peer 310001');
    expect(callNames({ ...start, src: 3100003, tg: 2340001, reason: 'private' }, s)).toEqual({ srcCallsign: 'N0CALL', srcName: 'Carol' });
    expect(callNames({ ...start, src: 1, tg: 1 }, s)).toEqual({});
    expect(callNames({ code: 'peer.login', level: 'info', peer: 2340001 }, s)).toEqual({});
    expect(callNames(start, null)).toEqual({});
  });
});

describe('CSV fields', () => {
  it('splits plain and quoted fields', () => {
    expect(splitCsvLine('a,b,,c')).toEqual(['a', 'b', '', 'c']);
    expect(splitCsvLine('"a,1","b ""q""",c')).toEqual(['a,1', 'b "q"', 'c']);
    expect(splitCsvLine('x,"y"')).toEqual(['x', 'y']);
    expect(splitCsvLine('"open')).toBeNull();
  });
});

describe('250,000 synthetic subscribers', () => {
  const subs = synthSubscribers(250_000, 12);
  const ref = new Map(subs.map((s) => [s.id, s]));

  for (const format of ['json', 'csv'] as const) {
    it(`${format}: every lookup agrees with a reference map`, async () => {
      const path = join(tmp, `users-250k.${format}`);
      (format === 'json' ? writeUsersJson : writeUserCsv)(path, subs);
      const t0 = performance.now();
      const names = await parseNames({ subscribers: [path] });
      const ms = performance.now() - t0;
      const s = LoadedNames.from(names);
      process.stderr.write(`[names] ${format}: 250,000 subscribers parsed in this thread in ${ms.toFixed(0)} ms; tables ${(s.byteLength() / 1e6).toFixed(1)} MB\n`);
      expect(s.subscriberCount).toBe(ref.size);
      let wrong = 0;
      for (const r of subs) {
        const got = s.subscriber(r.id);
        if (got?.callsign !== r.callsign || got.name !== fullName(r)) wrong++;
      }
      expect(wrong).toBe(0);
      // IDs between and around the real ones are absent.
      let found = 0;
      for (const r of subs.slice(0, 20_000)) if (!ref.has(r.id + 1) && s.subscriber(r.id + 1) !== undefined) found++;
      expect(found).toBe(0);
      expect(s.subscriber(999_999)).toBeUndefined();
      expect(s.subscriber(0xffff_ffff)).toBeUndefined();
      // About 9 bytes per entry plus its text: no per-entry objects.
      expect(s.byteLength()).toBeLessThan(250_000 * 9 + 250_000 * 30);
    });
  }
});
