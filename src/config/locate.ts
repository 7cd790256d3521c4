// Finds the line a dotted key comes from in TOML text, so that schema errors can point at it.
// It is a small scanner, not a parser: it is only run on text smol-toml has already accepted,
// reads `[table]` / `[[array-of-tables]]` headers and `key = value` lines (bare, "quoted" and
// 'literal' keys, dotted or not) and steps over values — including multi-line strings and arrays —
// without interpreting them. On text it does not understand it gives up quietly; it never throws.

/** Dotted key → 1-based line of its first definition (a `key =` line or a `[header]`).
 *  Dotted keys also define their prefixes: `a.b.c = 1` under `[t]` records t.a, t.a.b and t.a.b.c. */
export function indexKeyLines(text: string): Map<string, number> {
  return new Scanner(text).run();
}

/**
 * The line of `key` (dotted, e.g. "timers.group_hangtime"). When the key itself has no line of its
 * own — an element of an array ("routing.ts2_static.1"), a key inside an inline table — the line
 * of the nearest enclosing key or header is given instead. null when nothing matches.
 */
export function locateKey(text: string, key: string, index: Map<string, number> = indexKeyLines(text)): number | null {
  if (key === '') return null;
  const parts = key.split('.');
  for (let n = parts.length; n > 0; n--) {
    const line = index.get(parts.slice(0, n).join('.'));
    if (line !== undefined) return line;
  }
  return null;
}

const BARE_KEY_CHAR = /[A-Za-z0-9_-]/;

class Scanner {
  private pos = 0;
  private line = 1;
  private table: string[] = [];
  private readonly found = new Map<string, number>();
  /** How many `[[name]]` headers each array of tables has had so far. */
  private readonly arrays = new Map<string, number>();

  constructor(private readonly src: string) {}

  run(): Map<string, number> {
    const src = this.src;
    while (this.pos < src.length) {
      const before = this.pos;
      this.skipBlanks();
      const c = src[this.pos];
      if (c === undefined) break;
      if (c === '\n') {
        this.newline();
      } else if (c === '#') {
        this.skipToLineEnd();
      } else if (c === '[') {
        this.header();
      } else {
        this.keyValue();
      }
      // Whatever happened, make progress, so malformed text cannot loop forever.
      if (this.pos === before) this.pos++;
    }
    return this.found;
  }

  private header(): void {
    const line = this.line;
    const array = this.src.startsWith('[[', this.pos);
    this.pos += array ? 2 : 1;
    const segments = this.key();
    if (segments !== null) {
      if (array) {
        // The n-th `[[links]]` is the element links.n (keys under it: links.n.key).
        const name = segments.join('.');
        const n = this.arrays.get(name) ?? 0;
        this.arrays.set(name, n + 1);
        segments.push(String(n));
      }
      this.table = segments;
      this.record(segments, line);
    }
    this.skipToLineEnd();
  }

  private keyValue(): void {
    const line = this.line;
    const segments = this.key();
    this.skipBlanks();
    if (segments === null || this.src[this.pos] !== '=') {
      this.skipToLineEnd();
      return;
    }
    this.pos++;
    this.record([...this.table, ...segments], line);
    this.skipValue();
  }

  private record(path: string[], line: number): void {
    for (let n = 1; n <= path.length; n++) {
      const dotted = path.slice(0, n).join('.');
      if (!this.found.has(dotted)) this.found.set(dotted, line);
    }
  }

  /** Reads `seg(.seg)*`; null when there is no key here. */
  private key(): string[] | null {
    const segments: string[] = [];
    for (;;) {
      this.skipBlanks();
      const segment = this.keySegment();
      if (segment === null) return null;
      segments.push(segment);
      this.skipBlanks();
      if (this.src[this.pos] !== '.') return segments;
      this.pos++;
    }
  }

  private keySegment(): string | null {
    const src = this.src;
    const c = src[this.pos];
    if (c === '"') {
      const start = this.pos;
      this.pos++;
      while (this.pos < src.length && src[this.pos] !== '"' && src[this.pos] !== '\n') {
        this.pos += src[this.pos] === '\\' ? 2 : 1;
      }
      if (src[this.pos] !== '"') return null;
      this.pos++;
      return decodeBasic(src.slice(start, this.pos));
    }
    if (c === "'") {
      const end = src.indexOf("'", this.pos + 1);
      const eol = src.indexOf('\n', this.pos + 1);
      if (end < 0 || (eol >= 0 && eol < end)) return null;
      const segment = src.slice(this.pos + 1, end);
      this.pos = end + 1;
      return segment;
    }
    const start = this.pos;
    while (this.pos < src.length && BARE_KEY_CHAR.test(src[this.pos] ?? '')) this.pos++;
    return this.pos > start ? src.slice(start, this.pos) : null;
  }

  /** Steps over a value up to (not including) the newline that ends it. */
  private skipValue(): void {
    const src = this.src;
    let depth = 0;
    while (this.pos < src.length) {
      const c = src[this.pos];
      if (c === '\n') {
        if (depth === 0) return;
        this.newline();
      } else if (c === '#') {
        this.skipToLineEnd();
      } else if (c === '"' || c === "'") {
        this.skipString(c);
      } else if (c === '[' || c === '{') {
        depth++;
        this.pos++;
      } else if (c === ']' || c === '}') {
        depth = Math.max(0, depth - 1);
        this.pos++;
      } else {
        this.pos++;
      }
    }
  }

  private skipString(quote: '"' | "'"): void {
    const src = this.src;
    const escapes = quote === '"';
    const triple = quote.repeat(3);
    const multiline = src.startsWith(triple, this.pos);
    this.pos += multiline ? 3 : 1;
    while (this.pos < src.length) {
      const c = src[this.pos];
      if (escapes && c === '\\') {
        this.pos++;
        if (src[this.pos] === '\n') this.newline();
        else this.pos++;
      } else if (c === '\n') {
        if (!multiline) return; // unterminated single-line string: let the caller see the newline
        this.newline();
      } else if (multiline && src.startsWith(triple, this.pos)) {
        this.pos += 3;
        // A multi-line string may end with one or two quotes of its own before the closing three.
        for (let extra = 0; extra < 2 && src[this.pos] === quote; extra++) this.pos++;
        return;
      } else if (!multiline && c === quote) {
        this.pos++;
        return;
      } else {
        this.pos++;
      }
    }
  }

  private skipBlanks(): void {
    const src = this.src;
    while (this.pos < src.length) {
      const c = src[this.pos];
      if (c !== ' ' && c !== '\t' && c !== '\r' && c !== '\uFEFF') return;
      this.pos++;
    }
  }

  private skipToLineEnd(): void {
    const eol = this.src.indexOf('\n', this.pos);
    this.pos = eol < 0 ? this.src.length : eol;
  }

  private newline(): void {
    this.pos++;
    this.line++;
  }
}

/** The text of a "basic" quoted key, escapes resolved where JSON agrees with TOML. */
function decodeBasic(quoted: string): string {
  try {
    const value: unknown = JSON.parse(quoted);
    if (typeof value === 'string') return value;
  } catch {
    // TOML-only escapes (\e, \xHH, \UXXXXXXXX): fall back to the raw text between the quotes.
  }
  return quoted.slice(1, -1);
}
