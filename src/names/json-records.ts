// Streaming the records out of a names JSON file without holding its parsed tree. The files are
// one object whose first list holds the records (`{"count": n, "results": [{...}, ...]}` from
// FreeDMR, `{"users": [{...}, ...]}` from RadioID), or just that list. This scanner follows
// strings and nesting character by character through each decoded chunk and hands each record's
// own text to JSON.parse, so at any time only one record exists as objects. It is not a validator of the whole document: the list must be
// well formed, the rest only balanced.

/** Thrown for a file that cannot be read as names: the message names the line. */
export class NamesFormatError extends Error {
  constructor(
    message: string,
    readonly line: number | null,
  ) {
    super(message);
    this.name = 'NamesFormatError';
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const NL = 0x0a;

const isSpace = (b: number): boolean => b === 0x20 || b === NL || b === 0x0d || b === 0x09;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/**
 * Turns a file's byte chunks into text: UTF-8, or Latin-1 from the first chunk that is not UTF-8
 * on (older downloads were written as Latin-1). A character split between two chunks is carried.
 */
export class ChunkText {
  private tail: Uint8Array | null = null;
  private latin = false;

  decode(chunk: Uint8Array): string {
    let bytes = this.tail === null ? chunk : concat([this.tail, chunk]);
    this.tail = null;
    if (!this.latin) {
      const cut = utf8Boundary(bytes);
      if (cut < bytes.length) {
        this.tail = bytes.slice(cut);
        bytes = bytes.subarray(0, cut);
      }
      try {
        return strictUtf8.decode(bytes);
      } catch {
        this.latin = true;
      }
    }
    return latin1.decode(bytes);
  }

  /** What is left at the end of the file (an incomplete character), as Latin-1. */
  flush(): string {
    const rest = this.tail === null ? '' : latin1.decode(this.tail);
    this.tail = null;
    return rest;
  }
}

/** Where an incomplete UTF-8 sequence at the end of `b` starts (b.length when there is none). */
function utf8Boundary(b: Uint8Array): number {
  for (let k = 1; k <= 3 && k <= b.length; k++) {
    const c = b[b.length - k]!;
    if ((c & 0xc0) === 0x80) continue;
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return need > k ? b.length - k : b.length;
  }
  return b.length;
}

export class JsonRecordScanner {
  /** Nesting depth: 0 outside everything, 1 inside the top-level object or list. */
  private depth = 0;
  private inString = false;
  private escaped = false;
  private started = false;
  /** Depth of the records list once found (its elements are at listDepth + 1); 0 before. */
  private listDepth = 0;
  private listDone = false;
  /** The last string seen directly in the top-level object: the key of a list that opens next. */
  private key: string | null = null;
  private keyParts: string[] | null = null;
  private keyStart = -1;
  private record: string[] = [];
  private recordStart = -1;
  private recordLine = 0;
  private line = 1;
  private count = 0;

  constructor(private readonly onRecord: (value: unknown, line: number, index: number) => void) {}

  get records(): number {
    return this.count;
  }

  /** The next piece of the file's text. */
  feed(chunk: string): void {
    const inRecord = (): boolean => this.listDepth > 0 && this.depth > this.listDepth;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk.charCodeAt(i);
      if (b === NL) this.line++;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) {
          this.inString = false;
          if (this.keyStart >= 0 || this.keyParts !== null) this.endKey(chunk, i);
        }
        continue;
      }
      if (isSpace(b)) continue;
      if (!this.started) {
        if (b !== LBRACE && b !== LBRACKET) throw new NamesFormatError('expected a JSON object or list', this.line);
        this.started = true;
        if (b === LBRACKET) this.listDepth = 1;
        this.depth = 1;
        continue;
      }
      if (this.depth === 0) throw new NamesFormatError('unexpected text after the end of the JSON document', this.line);
      const inList = this.listDepth > 0 && this.depth === this.listDepth && !this.listDone;
      if (inList) {
        // Directly inside the records list: only records, commas and the closing bracket.
        if (b === LBRACE) {
          this.depth++;
          this.recordStart = i;
          this.recordLine = this.line;
        } else if (b === RBRACKET) {
          this.depth--;
          this.listDone = true;
        } else if (b !== COMMA) {
          throw new NamesFormatError(`record ${this.count + 1}: expected a JSON object in the list of records`, this.line);
        }
        continue;
      }
      if (b === QUOTE) {
        this.inString = true;
        if (this.depth === 1 && this.listDepth === 0) {
          this.keyStart = i + 1;
          this.keyParts = null;
        }
        continue;
      }
      if (b === LBRACE || b === LBRACKET) {
        this.depth++;
        if (b === LBRACKET && this.depth === 2 && this.listDepth === 0 && this.key !== 'count') this.listDepth = 2;
        continue;
      }
      if (b === RBRACE || b === RBRACKET) {
        if (this.depth === 0) throw new NamesFormatError('unbalanced brackets', this.line);
        this.depth--;
        if (this.listDepth > 0 && this.depth === this.listDepth && !this.listDone && this.recordStart >= 0) this.endRecord(chunk, i);
        continue;
      }
    }
    // Carry what is open across the chunk boundary.
    if (inRecord() && this.recordStart >= 0) {
      this.record.push(chunk.slice(this.recordStart));
      this.recordStart = 0;
    }
    if (this.inString && this.keyStart >= 0) {
      (this.keyParts ??= []).push(chunk.slice(this.keyStart));
      this.keyStart = 0;
    }
  }

  /** After the last chunk: a file cut short (an interrupted download) is refused. */
  end(): void {
    if (!this.started) throw new NamesFormatError('the file is empty', null);
    if (this.depth !== 0 || this.inString) throw new NamesFormatError('unexpected end of file (cut short?)', this.line);
    if (this.listDepth === 0) throw new NamesFormatError('no list of records found (expected {"<name>": [ {...}, ... ]} or [ {...}, ... ])', null);
  }

  private endKey(chunk: string, quoteAt: number): void {
    const tail = chunk.slice(this.keyStart, quoteAt);
    this.key = this.keyParts === null ? tail : this.keyParts.join('') + tail;
    this.keyStart = -1;
    this.keyParts = null;
  }

  private endRecord(chunk: string, closeAt: number): void {
    const tail = chunk.slice(this.recordStart, closeAt + 1);
    const text = this.record.length === 0 ? tail : this.record.join('') + tail;
    this.record = [];
    this.recordStart = -1;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new NamesFormatError(`record ${this.count + 1} is not valid JSON: ${(err as Error).message}`, this.recordLine);
    }
    this.count++;
    this.onRecord(value, this.recordLine, this.count);
  }
}

export function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
