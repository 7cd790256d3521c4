// Building blocks of the config schema (schema.ts): the wording of every error, "expected <form>,
// got <value>", and the field builders that use it.

import { z } from 'zod';

/** Longest duration any timer key accepts: one day. Keeps every timer well below the 2^31-1 ms
 *  that Node's setTimeout can represent. */
export const MAX_DURATION_SECONDS = 86_400;

/** Highest assignable talkgroup: 0xFFFFFF is the all-call ID, so it is not a talkgroup. */
export const MAX_TALKGROUP = 0xff_fffe;

// ---------------------------------------------------------------------------------------------
// Error wording

/** A short, human description of a value that failed a check, TOML-flavoured. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'nan';
    if (value === Infinity) return 'inf';
    if (value === -Infinity) return '-inf';
    return String(value);
  }
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : `an array of ${value.length} value${value.length === 1 ? '' : 's'}`;
  // smol-toml's TomlDate is a Date subclass; its toISOString keeps the TOML form (local dates etc.).
  if (value instanceof Date) return `a date/time (${safeText(() => value.toISOString())})`;
  // smol-toml builds tables without a prototype, so they cannot be turned into strings directly.
  if (typeof value === 'object') return 'a table';
  return typeof value;
}

export function safeText(render: () => string): string {
  try {
    return render();
  } catch {
    return 'invalid';
  }
}

/** zod `error` option producing "expected <what>, got <value>" for whatever check failed. */
export function expecting(what: string): { error: (issue: { input?: unknown }) => string } {
  return { error: (issue) => `expected ${what}, got ${describeValue(issue.input)}` };
}

// ---------------------------------------------------------------------------------------------
// Field builders

export function integer(lo: number, hi: number, what: string, fallback: number, note = '') {
  const e = expecting(`${what} ${lo}..${hi}${note === '' ? '' : ` (${note})`}`);
  return z.number(e).int(e).min(lo, e).max(hi, e).default(fallback);
}

export function atLeast(lo: number, what: string, fallback: number) {
  const e = expecting(`${what} >= ${lo}`);
  return z.number(e).int(e).min(lo, e).default(fallback);
}

/** A duration in seconds. `positive` durations must be at least one millisecond. */
export function seconds(positive: boolean, fallbackMs: number) {
  const lo = positive ? 0.001 : 0;
  const e = expecting(`a number of seconds >= ${lo} and <= ${MAX_DURATION_SECONDS}`);
  return z.number(e).min(lo, e).max(MAX_DURATION_SECONDS, e).default(fallbackMs / 1000);
}

export function text(minLen: number, maxLen: number, what: string, fallback: string) {
  const e = expecting(`${what} of ${minLen}..${maxLen} characters`);
  return z.string(e).min(minLen, e).max(maxLen, e).default(fallback);
}

export function talkgroups(fallback: readonly number[]) {
  const each = expecting(`a talkgroup number 1..${MAX_TALKGROUP}`);
  const tg = z.number(each).int(each).min(1, each).max(MAX_TALKGROUP, each);
  return z.array(tg, expecting('an array of talkgroup numbers, e.g. [91, 3100]')).default(() => [...fallback]);
}

/** A talkgroup or an inclusive range written "first-last", as [first, last]. */
export function talkgroupRanges(fallback: readonly (readonly [number, number])[]) {
  const what = `a talkgroup 1..${MAX_TALKGROUP} or a range "first-last"`;
  const each = expecting(what);
  const single = z
    .number(each)
    .int(each)
    .min(1, each)
    .max(MAX_TALKGROUP, each)
    .transform((n): [number, number] => [n, n]);
  const range = z
    .string(each)
    .regex(/^\s*\d{1,8}\s*-\s*\d{1,8}\s*$/, each)
    .transform((t) => t.split('-').map((x) => Number(x.trim())) as [number, number])
    .refine(([a, b]) => a >= 1 && b <= MAX_TALKGROUP && a <= b, {
      error: (issue: { input?: unknown }) => {
        const [a, b] = issue.input as [number, number];
        if (a > b) return `"${a}-${b}" is reversed (the first talkgroup is above the last): write "${b}-${a}"`;
        return `"${a}-${b}" is outside the talkgroups 1..${MAX_TALKGROUP}`;
      },
    });
  const shown = fallback.map(([a, b]) => (a === b ? a : `${a}-${b}`));
  return z
    .array(z.union([single, range], each), expecting(`an array of talkgroups and ranges, e.g. ["1-79", 4000, "9990-9999"]`))
    .prefault(() => shown);
}

export function section<Shape extends z.core.$ZodLooseShape>(name: string, shape: Shape) {
  return z.strictObject(shape, expecting(`a table [${name}]`));
}
