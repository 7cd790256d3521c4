// A reader for the INI dialect FreeDMR's config file is written in (Python configparser with its
// default settings): `[SECTION]` headers, `KEY: value` or `KEY = value` lines, whole-line comments
// starting with # or ;, indented continuation lines, case-insensitive keys and case-sensitive
// section names, `%%` for a literal percent sign and `%(key)s` for another key of the same section
// (or of [DEFAULT]). There are no inline comments: `PASSPHRASE: a;b` is the passphrase "a;b", as in
// FreeDMR. Whatever configparser refuses (a line before the first section, a line with no
// separator, a section or key given twice) is refused here too, naming the line.

export class ImportError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | null,
    message: string,
  ) {
    super(line === null ? `${file}: ${message}` : `${file}:${line}: ${message}`);
  }
}

export interface IniEntry {
  /** The key as written in the file. */
  readonly key: string;
  readonly value: string;
  readonly line: number;
}

export interface IniSection {
  readonly name: string;
  readonly line: number;
  /** Keyed by the upper-cased key, in file order. */
  readonly entries: Map<string, IniEntry>;
}

export interface IniFile {
  readonly file: string;
  /** In file order; [DEFAULT] is folded into the others and not listed. */
  readonly sections: IniSection[];
}

interface RawEntry {
  key: string;
  lines: string[];
  line: number;
  indent: number;
}

const indentOf = (s: string): number => s.length - s.trimStart().length;

export function parseIni(text: string, file: string): IniFile {
  const sections: { name: string; line: number; entries: Map<string, RawEntry> }[] = [];
  const byName = new Map<string, (typeof sections)[number]>();
  let current: (typeof sections)[number] | null = null;
  let last: RawEntry | null = null;
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);

  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || trimmed.startsWith(';')) return;
    if (trimmed === '') {
      // A blank line ends a value; configparser keeps it only inside an indented continuation.
      last = null;
      return;
    }
    const indent = indentOf(raw);
    if (last !== null && indent > last.indent) {
      last.lines.push(trimmed);
      return;
    }
    const header = /^\[(.+)\]$/.exec(trimmed);
    if (header) {
      const name = header[1]!;
      if (byName.has(name)) throw new ImportError(file, lineNo, `section [${name}] appears twice (first on line ${byName.get(name)!.line})`);
      current = { name, line: lineNo, entries: new Map() };
      sections.push(current);
      byName.set(name, current);
      last = null;
      return;
    }
    if (current === null) throw new ImportError(file, lineNo, `expected a [SECTION] header before "${clip(trimmed)}"`);
    const sep = trimmed.search(/[:=]/);
    if (sep <= 0) throw new ImportError(file, lineNo, `expected "KEY: value" or "KEY = value" in [${current.name}], got "${clip(trimmed)}"`);
    const key = trimmed.slice(0, sep).trim();
    const upper = key.toUpperCase();
    const seen = current.entries.get(upper);
    if (seen) throw new ImportError(file, lineNo, `[${current.name}] ${key} is set twice (first on line ${seen.line})`);
    last = { key, lines: [trimmed.slice(sep + 1).trim()], line: lineNo, indent };
    current.entries.set(upper, last);
  });

  const defaults = byName.get('DEFAULT')?.entries ?? new Map<string, RawEntry>();
  const out: IniSection[] = [];
  for (const s of sections) {
    if (s.name === 'DEFAULT') continue;
    const merged = new Map<string, RawEntry>(defaults);
    for (const [k, e] of s.entries) merged.set(k, e);
    const entries = new Map<string, IniEntry>();
    for (const [k, e] of merged) entries.set(k, { key: e.key, line: e.line, value: interpolate(e, merged, file, s.name, 0) });
    out.push({ name: s.name, line: s.line, entries });
  }
  return { file, sections: out };
}

function interpolate(e: RawEntry, scope: Map<string, RawEntry>, file: string, section: string, depth: number): string {
  if (depth > 10) throw new ImportError(file, e.line, `[${section}] ${e.key}: %(...)s references nest too deep (a loop?)`);
  const value = e.lines.join('\n');
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c !== '%') {
      out += c;
      continue;
    }
    const next = value[i + 1];
    if (next === '%') {
      out += '%';
      i++;
      continue;
    }
    const ref = /^%\(([^)]+)\)s/.exec(value.slice(i));
    if (!ref) throw new ImportError(file, e.line, `[${section}] ${e.key}: a lone "%" (write "%%" for a percent sign, as configparser wants)`);
    const target = scope.get(ref[1]!.toUpperCase());
    if (!target) throw new ImportError(file, e.line, `[${section}] ${e.key}: %(${ref[1]})s names no key of this section`);
    out += interpolate(target, scope, file, section, depth + 1);
    i += ref[0].length - 1;
  }
  return out;
}

const clip = (s: string): string => (s.length > 40 ? `${s.slice(0, 40)}…` : s);
