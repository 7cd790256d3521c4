// The tests' Prometheus text reader is strict: it must refuse what a scraper would refuse, or the
// metrics test could pass on broken output.

import { describe, expect, it } from 'vitest';
import { parsePrometheusText, sampleValue } from '../support/prom-text.js';

const ok = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 3\na_total{x="q\\"\\\\\\n"} 4\n# TYPE g gauge\ng -1.5e3\n';

describe('parsePrometheusText', () => {
  it('reads families, labels with escapes and values', () => {
    const m = parsePrometheusText(ok);
    expect(sampleValue(m, 'a_total', { x: '1' })).toBe(3);
    expect(sampleValue(m, 'a_total', { x: 'q"\\\n' })).toBe(4);
    expect(sampleValue(m, 'g')).toBe(-1500);
    expect(m.get('a_total')?.help).toBe('A.');
  });

  it.each([
    ['no final newline', ok.slice(0, -1)],
    ['a sample before its TYPE', 'a_total 1\n# TYPE a_total counter\n'],
    ['a counter without _total', '# TYPE a counter\na 1\n'],
    ['a bad value', '# TYPE g gauge\ng one\n'],
    ['an unquoted label', '# TYPE g gauge\ng{x=1} 1\n'],
    ['a bad escape', '# TYPE g gauge\ng{x="\\t"} 1\n'],
    ['a series twice', '# TYPE g gauge\ng{x="1"} 1\ng{x="1"} 2\n'],
    ['a second TYPE', '# TYPE g gauge\n# TYPE g gauge\n'],
    ['a negative counter', '# TYPE a_total counter\na_total -1\n'],
    ['an empty line', '# TYPE g gauge\n\ng 1\n'],
    ['a bad type', '# TYPE g number\n'],
  ])('refuses %s', (_what, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
