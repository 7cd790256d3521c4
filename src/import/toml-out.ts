// Writes the imported settings as a commented dmrhub TOML file: each key carries a comment naming
// the FreeDMR setting it came from, so an operator can check the result against the old file.

export type TomlValue = string | number | boolean | readonly (string | number)[];

interface Item {
  readonly key: string;
  readonly value: TomlValue;
  readonly from: string;
}

export class TomlTable {
  readonly items: Item[] = [];

  set(key: string, value: TomlValue, from: string): void {
    const at = this.items.findIndex((i) => i.key === key);
    if (at >= 0) this.items[at] = { key, value, from };
    else this.items.push({ key, value, from });
  }

  get(key: string): TomlValue | undefined {
    return this.items.find((i) => i.key === key)?.value;
  }
}

/** The sections dmrhub's schema knows, in the order its example file lists them. */
const ORDER = ['server', 'hbp', 'routing', 'timers', 'limits', 'echo', 'prompts', 'record', 'log', 'reporting', 'mqtt', 'sql'] as const;
export type TomlSection = (typeof ORDER)[number];

export class TomlDoc {
  private readonly tables = new Map<TomlSection, TomlTable>();
  readonly links: TomlTable[] = [];
  readonly uplinks: TomlTable[] = [];

  table(name: TomlSection): TomlTable {
    let t = this.tables.get(name);
    if (!t) this.tables.set(name, (t = new TomlTable()));
    return t;
  }

  render(header: readonly string[]): string {
    const out: string[] = header.map((h) => (h === '' ? '#' : `# ${h}`));
    for (const name of ORDER) {
      const t = this.tables.get(name);
      if (!t || t.items.length === 0) continue;
      out.push('', `[${name}]`, ...lines(t));
    }
    for (const link of this.links) out.push('', '[[links]]', ...lines(link));
    for (const uplink of this.uplinks) out.push('', '[[uplinks]]', ...lines(uplink));
    return out.join('\n') + '\n';
  }
}

function lines(t: TomlTable): string[] {
  const width = Math.max(...t.items.map((i) => `${i.key} = ${tomlValue(i.value)}`.length));
  return t.items.map((i) => {
    const text = `${i.key} = ${tomlValue(i.value)}`;
    return i.from === '' ? text : `${text.padEnd(width)}  # ${i.from}`;
  });
}

export function tomlValue(v: TomlValue): string {
  if (typeof v === 'string') return tomlString(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new RangeError(`cannot write ${v} to TOML`);
    return String(v);
  }
  return `[${v.map((x) => tomlValue(x)).join(', ')}]`;
}

/** A TOML basic string: quotes, backslashes and every control character (DEL too) escaped. */
export function tomlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + '"';
}
