// The dashboard's formatting helpers (console/assets/view.js), run in Node: they touch no DOM.
// The rest of the dashboard is tested in a real browser (test/e2e/dashboard.e2e.test.ts).

import { describe, expect, it } from 'vitest';

interface View {
  clock(ms: number): string;
  span(ms: number): string;
  pct(x: unknown): string;
  num(x: unknown, digits?: number): string;
  slotsLabel(s: unknown): string;
  streamKey(id: unknown): string;
}

// Imported by a computed path: the file is browser JavaScript with no type declarations.
const VIEW = new URL('../../console/assets/view.js', import.meta.url).href;
const v = (await import(VIEW)) as View;

describe('dashboard formatting', () => {
  it('writes call durations as a clock', () => {
    expect(v.clock(0)).toBe('0:00');
    expect(v.clock(999)).toBe('0:00');
    expect(v.clock(83_000)).toBe('1:23');
    expect(v.clock(3_723_000)).toBe('1:02:03');
    expect(v.clock(-5)).toBe('0:00');
  });

  it('writes long spans in the largest units that matter', () => {
    expect(v.span(42_000)).toBe('42 s');
    expect(v.span(125_000)).toBe('2 min');
    expect(v.span(2 * 3600_000 + 5 * 60_000)).toBe('2 h 5 min');
    expect(v.span(3 * 86_400_000 + 4 * 3600_000)).toBe('3 d 4 h');
  });

  it('writes loss as a percentage and an unknown BER or RSSI as a dash', () => {
    expect(v.pct(0.0135)).toBe('1.4 %');
    expect(v.pct(0)).toBe('0.0 %');
    expect(v.pct(0.25)).toBe('25 %');
    expect(v.pct(null)).toBe('–');
    expect(v.num(71.5)).toBe('71.5');
    expect(v.num(2)).toBe('2');
    expect(v.num(null)).toBe('–');
    expect(v.num(Number.NaN)).toBe('–');
  });

  it('names the RPTC slot settings', () => {
    expect(['1', '2', '3', '4', ' 3', '7'].map((s) => v.slotsLabel(s))).toEqual(['TS1', 'TS2', 'TS1+2', 'simplex', 'TS1+2', '7']);
  });

  it('keys a stream the way the events write its ID, from a number or a string', () => {
    expect(v.streamKey('5e1f00a3')).toBe('5e1f00a3');
    expect(v.streamKey('5E1F00A3')).toBe('5e1f00a3');
    expect(v.streamKey(0x5e1f00a3)).toBe('5e1f00a3');
    expect(v.streamKey(0xa3)).toBe('000000a3');
    expect(v.streamKey(0xffffffff)).toBe('ffffffff');
  });
});
