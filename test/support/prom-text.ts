// A strict reader of the Prometheus text exposition format (0.0.4), for tests: every line is a
// HELP or TYPE comment or a sample; a sample's metric must have been declared by a TYPE line above
// it (its family; a histogram's or summary's _bucket/_sum/_count suffixes are not used here), names
// and label names must be valid, label values properly escaped, values numbers, a series appears
// once, and a counter's name ends in _total. Anything else throws, naming the line.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'untyped' | 'histogram' | 'summary';
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function parseLabels(text: string, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: label without '='`);
    const name = text.slice(i, eq);
    if (!LABEL.test(name)) throw new Error(`${where}: bad label name ${JSON.stringify(name)}`);
    if (text[eq + 1] !== '"') throw new Error(`${where}: label value not quoted`);
    let j = eq + 2;
    let value = '';
    for (;;) {
      const c = text[j];
      if (c === undefined) throw new Error(`${where}: unterminated label value`);
      if (c === '"') break;
      if (c === '\\') {
        const n = text[j + 1];
        if (n === 'n') value += '\n';
        else if (n === '\\' || n === '"') value += n;
        else throw new Error(`${where}: bad escape \\${n ?? ''}`);
        j += 2;
        continue;
      }
      if (c === '\n') throw new Error(`${where}: newline in a label value`);
      value += c;
      j++;
    }
    if (name in out) throw new Error(`${where}: label ${name} twice`);
    out[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (i < text.length) throw new Error(`${where}: expected ',' after a label`);
  }
  return out;
}

function parseValue(v: string, where: string): number {
  if (v === 'NaN') return NaN;
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) throw new Error(`${where}: bad value ${JSON.stringify(v)}`);
  return Number(v);
}

export function parsePrometheusText(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, Family>();
  const series = new Set<string>();
  const helps = new Map<string, string>();
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, n) => {
      const where = `line ${n + 1}`;
      if (line === '') throw new Error(`${where}: empty line`);
      if (line.startsWith('#')) {
        const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
        if (m === null) return; // a plain comment
        const [, kind, name, rest] = m as unknown as [string, string, string, string];
        if (!NAME.test(name)) throw new Error(`${where}: bad metric name ${name}`);
        if (kind === 'HELP') {
          if (helps.has(name)) throw new Error(`${where}: second HELP for ${name}`);
          helps.set(name, rest);
          return;
        }
        if (!['counter', 'gauge', 'untyped', 'histogram', 'summary'].includes(rest)) throw new Error(`${where}: bad type ${rest}`);
        if (families.has(name)) throw new Error(`${where}: second TYPE for ${name}`);
        if (rest === 'counter' && !name.endsWith('_total')) throw new Error(`${where}: counter ${name} does not end in _total`);
        families.set(name, { name, type: rest as Family['type'], help: helps.get(name) ?? '', samples: [] });
        return;
      }
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/.exec(line);
      if (m === null) throw new Error(`${where}: not a sample: ${JSON.stringify(line)}`);
      const name = m[1]!;
      const family = families.get(name);
      if (family === undefined) throw new Error(`${where}: ${name} has no TYPE line before it`);
      const labels = m[3] !== undefined ? parseLabels(m[3], where) : {};
      const key = `${name}{${Object.entries(labels).sort().map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
      if (series.has(key)) throw new Error(`${where}: series ${key} twice`);
      series.add(key);
      const value = parseValue(m[4]!, where);
      if (family.type === 'counter' && !(value >= 0)) throw new Error(`${where}: counter ${name} is ${value}`);
      family.samples.push({ name, labels, value });
    });
  for (const [name, help] of helps) if (!families.has(name)) throw new Error(`HELP for ${name} without a TYPE`);
  for (const f of families.values()) f.help = helps.get(f.name) ?? '';
  return families;
}

/** The value of the one sample of `name` whose labels include `labels`. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const f = families.get(name);
  const hit = f?.samples.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hit === undefined || hit.length === 0) return undefined;
  if (hit.length > 1) throw new Error(`${name} ${JSON.stringify(labels)}: ${hit.length} samples`);
  return hit[0]!.value;
}
