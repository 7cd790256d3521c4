// The full event log (NDJSON), switched on by config or `--record`, written through a stream.
//
// A recording is never worth the routing: a write that fails (disk full, EFBIG under a file-size
// limit, the file made read-only, an I/O error) or a disk too slow to keep up stops the recording,
// with one error line and a counter, and routing goes on. Recording resumes by itself: the shell
// tries again after 1 s, doubling to 60 s, and at once on SIGHUP. An event log with a hole cannot
// be replayed from its start, so the recording resumes in a new file beside the first
// (`<name>-resumed-<n>.ndjson`) whose header says `partial`, like a wrapped flight recorder.

import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, extname } from 'node:path';
import type { Logger } from 'pino';
import type { CoreEvent } from '../core/inputs.js';
import { encodeEvent, type LogHeader } from '../replay/format.js';
import type { Redactor } from './recorder.js';

/** Bytes the stream may hold unwritten before the recording counts as stalled (a disk that hangs). */
const MAX_BUFFERED = 8 * 1024 * 1024;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 60_000;

export interface EventLogCounters {
  /** Events written to the stream. */
  written: number;
  /** Events not recorded because the recording was stopped by a fault. */
  lost: number;
  /** Faults that stopped the recording. */
  writeErrors: number;
  /** Times the recording resumed in a new file. */
  resumed: number;
}

export class EventLog {
  private out: WriteStream | null = null;
  private retry: NodeJS.Timeout | null = null;
  private retryMs = RETRY_MIN_MS;
  private closed = false;
  private resumes = 0;
  /** The file being written now (the first one, or the latest resumed one). */
  file: string;
  readonly counters: EventLogCounters = { written: 0, lost: 0, writeErrors: 0, resumed: 0 };

  constructor(
    readonly path: string,
    private readonly header: () => LogHeader,
    private readonly redact: Redactor,
    private readonly logger: Logger,
  ) {
    this.file = path;
    this.open(path, this.header());
  }

  write(ev: CoreEvent): void {
    const out = this.out;
    if (out === null) {
      this.counters.lost++;
      return;
    }
    if (out.writableLength > MAX_BUFFERED) {
      this.fail(out, `the disk is not keeping up (${out.writableLength} bytes waiting)`);
      this.counters.lost++;
      return;
    }
    out.write(encodeEvent(ev, this.redact) + '\n');
    this.counters.written++;
  }

  /** Try to resume now (SIGHUP), if the recording is stopped. */
  resumeNow(): void {
    if (this.out !== null || this.closed) return;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.resume();
  }

  get recording(): boolean {
    return this.out !== null;
  }

  close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    const out = this.out;
    this.out = null;
    if (out === null) return Promise.resolve();
    return new Promise((resolve) => {
      out.once('error', () => resolve());
      out.end(resolve);
    });
  }

  private open(file: string, header: LogHeader): void {
    try {
      mkdirSync(dirname(file), { recursive: true });
    } catch (err) {
      this.fault(`cannot create the directory: ${(err as Error).message}`);
      return;
    }
    const out = createWriteStream(file, { flags: 'w', mode: 0o600 });
    out.on('error', (err) => this.fail(out, err.message));
    this.out = out;
    this.file = file;
    out.write(JSON.stringify(header) + '\n');
  }

  /** A fault on `out`: stop recording (once per stream), schedule a resume. */
  private fail(out: WriteStream, why: string): void {
    if (this.out !== out) return;
    this.out = null;
    out.destroy();
    this.fault(why);
  }

  private fault(why: string): void {
    this.counters.writeErrors++;
    this.logger.error(
      { code: 'record.write-failed', file: this.file, error: why, retryMs: this.retryMs },
      `recording to ${this.file} stopped: ${why}; routing goes on, recording resumes when a new file can be written (next try in ${Math.round(this.retryMs / 1000)} s, or on SIGHUP)`,
    );
    this.schedule();
  }

  private schedule(): void {
    if (this.closed || this.retry !== null) return;
    const wait = this.retryMs;
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    this.retry = setTimeout(() => {
      this.retry = null;
      this.resume();
    }, wait);
    this.retry.unref();
  }

  private resume(): void {
    if (this.closed || this.out !== null) return;
    this.resumes++;
    const ext = extname(this.path);
    const file = `${this.path.slice(0, this.path.length - ext.length)}-resumed-${this.resumes}${ext || '.ndjson'}`;
    const lost = this.counters.lost;
    this.open(file, { ...this.header(), partial: true });
    const out = this.out as WriteStream | null;
    if (out === null) return;
    // Believed only once the header reached the file: a disk still full fails here instead.
    out.write('', (err) => {
      if (err || this.out !== out) return;
      this.counters.resumed++;
      this.retryMs = RETRY_MIN_MS;
      this.logger.info(
        { code: 'record.resumed', file, lost },
        `recording resumed in ${file} (a partial log: ${lost} events were not recorded while it was stopped)`,
      );
    });
  }
}
