// Reads the top-level `NAME = <literal>` assignments of a Python file such as FreeDMR's rules.py,
// without running any Python. A literal is a dict, list, tuple, string (single, double or triple
// quoted, with the common escapes; adjacent strings join), integer, float, True, False or None.
// Other top-level statements (imports, `if __name__ == '__main__':` blocks, function definitions)
// are skipped along with their indented bodies; an assignment whose value is not a literal is an
// error naming its line, because guessing would hide a rule.

import { ImportError } from './ini.js';

export type PyValue = null | boolean | number | string | PyValue[] | PyDict;
export interface PyDict {
  readonly kind: 'dict';
  /** Keys in file order, with the line each entry starts on. */
  readonly entries: { key: PyValue; value: PyValue; line: number }[];
}

export interface PyAssignment {
  readonly name: string;
  readonly value: PyValue;
  readonly line: number;
}

export const isDict = (v: PyValue): v is PyDict => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Looks a key up in a parsed dict (string keys only). */
export function dictGet(d: PyDict, key: string): PyValue | undefined {
  for (let i = d.entries.length - 1; i >= 0; i--) if (d.entries[i]!.key === key) return d.entries[i]!.value;
  return undefined;
}

export function parsePythonAssignments(text: string, file: string): PyAssignment[] {
  const p = new Parser(text.replace(/\r\n?/g, '\n'), file);
  return p.module();
}

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(
    private readonly src: string,
    private readonly file: string,
  ) {}

  module(): PyAssignment[] {
    const out: PyAssignment[] = [];
    while (this.pos < this.src.length) {
      const lineStart = this.pos;
      const lineEnd = this.src.indexOf('\n', lineStart);
      const line = this.src.slice(lineStart, lineEnd < 0 ? this.src.length : lineEnd);
      const assign = /^([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)/.exec(line);
      if (assign) {
        const lineNo = this.lineAt(lineStart);
        this.pos = lineStart + assign[0].length;
        const value = this.value();
        this.skipInline();
        if (this.pos < this.src.length && this.src[this.pos] !== '\n' && this.src[this.pos] !== ';')
          this.fail(`${assign[1]} = …: expected the end of the line after the value`);
        out.push({ name: assign[1]!, value, line: lineNo });
        this.toNextLine();
        continue;
      }
      // Not an assignment: skip the statement, including any bracketed continuation and an
      // indented body that follows a line ending in ':'.
      this.pos = lineEnd < 0 ? this.src.length : lineEnd + 1;
      if (/:\s*(#.*)?$/.test(line) && !/^\s/.test(line)) this.skipIndentedBlock();
    }
    return out;
  }

  private skipIndentedBlock(): void {
    while (this.pos < this.src.length) {
      const end = this.src.indexOf('\n', this.pos);
      const line = this.src.slice(this.pos, end < 0 ? this.src.length : end);
      if (line.trim() !== '' && !/^\s/.test(line)) return;
      this.pos = end < 0 ? this.src.length : end + 1;
    }
  }

  private toNextLine(): void {
    const end = this.src.indexOf('\n', this.pos);
    this.pos = end < 0 ? this.src.length : end + 1;
  }

  private lineAt(pos: number): number {
    let n = 1;
    for (let i = 0; i < pos && i < this.src.length; i++) if (this.src[i] === '\n') n++;
    return n;
  }

  private fail(message: string): never {
    throw new ImportError(this.file, this.lineAt(this.pos), message);
  }

  /** Skips spaces and comments on this line (and a backslash line continuation). */
  private skipInline(): void {
    for (;;) {
      const c = this.src[this.pos];
      if (c === ' ' || c === '\t') this.pos++;
      else if (c === '\\' && this.src[this.pos + 1] === '\n') this.pos += 2;
      else if (c === '#') while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.pos++;
      else return;
    }
  }

  /** Inside brackets newlines do not end anything. */
  private skipAll(): void {
    for (;;) {
      this.skipInline();
      if (this.src[this.pos] === '\n') this.pos++;
      else return;
    }
  }

  private value(): PyValue {
    this.skipInline();
    if (this.depth > 64) this.fail('literals nest too deep');
    const c = this.src[this.pos];
    if (c === undefined) this.fail('the file ends where a value should be (is a closing bracket missing?)');
    if (c === '\n') this.fail('expected a value');
    if (c === '{') return this.nested(() => this.dict());
    if (c === '[') return this.nested(() => this.sequence('[', ']'));
    if (c === '(') return this.nested(() => this.sequence('(', ')'));
    if (c === "'" || c === '"' || /[rRbBuU]/.test(c) && /['"]/.test(this.src[this.pos + 1] ?? '')) return this.strings();
    if (/[-+0-9.]/.test(c)) return this.number();
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.src.slice(this.pos, this.pos + 64));
    if (word) {
      const w = word[0];
      if (w === 'True' || w === 'False' || w === 'None') {
        this.pos += w.length;
        return w === 'None' ? null : w === 'True';
      }
      this.fail(`"${w}" is not a literal (only dicts, lists, strings, numbers, True, False and None are read; nothing is run)`);
    }
    this.fail(`unexpected "${c}"`);
  }

  private nested<T>(f: () => T): T {
    this.depth++;
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  private dict(): PyDict {
    this.pos++;
    const entries: PyDict['entries'] = [];
    for (;;) {
      this.skipAll();
      if (this.src[this.pos] === '}') {
        this.pos++;
        return { kind: 'dict', entries };
      }
      const line = this.lineAt(this.pos);
      const key = this.value();
      this.skipAll();
      if (this.src[this.pos] !== ':') this.fail('expected ":" after a dict key');
      this.pos++;
      this.skipAll();
      const value = this.value();
      entries.push({ key, value, line });
      this.skipAll();
      const c = this.src[this.pos];
      if (c === ',') this.pos++;
      else if (c !== '}') this.fail(c === undefined ? 'the file ends inside a dict: a "}" is missing' : `expected "," or "}" in a dict, got "${c}"`);
    }
  }

  private sequence(open: string, close: string): PyValue[] {
    this.pos++;
    const items: PyValue[] = [];
    for (;;) {
      this.skipAll();
      if (this.src[this.pos] === close) {
        this.pos++;
        return items;
      }
      items.push(this.value());
      this.skipAll();
      const c = this.src[this.pos];
      if (c === ',') this.pos++;
      else if (c !== close) this.fail(c === undefined ? `the file ends inside a list: a "${close}" is missing` : `expected "," or "${close}" after "${open}…", got "${c}"`);
    }
  }

  private number(): number {
    const m = /^[-+]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(\d[\d_]*)?\.?\d[\d_]*([eE][-+]?\d+)?)/.exec(this.src.slice(this.pos, this.pos + 64));
    if (!m || m[0] === '' || /^[-+]$/.test(m[0])) this.fail('expected a number');
    this.pos += m[0].length;
    const t = m[0].replace(/_/g, '');
    const sign = t.startsWith('-') ? -1 : 1;
    const body = t.replace(/^[-+]/, '');
    if (/^0[xXoObB]/.test(body)) return sign * Number(body.toLowerCase());
    const n = Number(body);
    if (!Number.isFinite(n)) this.fail(`"${m[0]}" is not a number`);
    return sign * n;
  }

  /** One string literal, or several adjacent ones joined (Python's implicit concatenation). */
  private strings(): string {
    let out = this.string();
    for (;;) {
      const save = this.pos;
      this.skipInline();
      const c = this.src[this.pos];
      if (c === "'" || c === '"') out += this.string();
      else {
        this.pos = save;
        return out;
      }
    }
  }

  private string(): string {
    let raw = false;
    while (/[rRbBuU]/.test(this.src[this.pos] ?? '')) raw ||= /[rR]/.test(this.src[this.pos++]!);
    const q = this.src[this.pos]!;
    const triple = this.src.startsWith(q.repeat(3), this.pos);
    const end = triple ? q.repeat(3) : q;
    this.pos += end.length;
    let out = '';
    for (;;) {
      if (this.pos >= this.src.length) this.fail('the file ends inside a string');
      if (this.src.startsWith(end, this.pos)) {
        this.pos += end.length;
        return out;
      }
      const c = this.src[this.pos]!;
      if (c === '\n' && !triple) this.fail('a string is not closed on its line');
      if (c === '\\' && !raw) {
        const n = this.src[this.pos + 1] ?? '';
        const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0', '\n': '' };
        if (n in simple) {
          out += simple[n];
          this.pos += 2;
          continue;
        }
        const hex = /^\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4})/.exec(this.src.slice(this.pos, this.pos + 6));
        if (hex) {
          out += String.fromCharCode(parseInt(hex[1]!.slice(1), 16));
          this.pos += hex[0].length;
          continue;
        }
      }
      out += c;
      this.pos++;
    }
  }
}
