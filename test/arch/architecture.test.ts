// Dependency direction (docs/architecture.md, "Layout and dependency direction") and the core's
// banned APIs, checked by reading the sources. Also the core's shape: no import cycle among the
// core's modules (type-only imports count), no source file over MAX_LINES lines, and
// src/core/model/ holding types only. Every scanner is tested on synthetic input too, so this test
// can fail.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

function files(dir: string, every = false): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p, every));
    else if (every || p.endsWith('.ts')) out.push(p);
  }
  return out;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Remove comments and the contents of string/template literals, keeping line structure. */
export function stripCode(src: string): string {
  let out = '';
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    const n = src[i + 1];
    if (c === '/' && n === '/') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '/' && n === '*') {
      i += 2;
      while (i < src.length && !(src[i] === '*' && src[i + 1] === '/')) out += src[i++] === '\n' ? '\n' : '';
      i += 2;
    } else if (c === '"' || c === "'" || c === '`') {
      out += c;
      i++;
      while (i < src.length && src[i] !== c) {
        if (src[i] === '\\') i++;
        else if (src[i] === '\n') out += '\n';
        i++;
      }
      out += c;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Module specifiers imported or re-exported by a source file. */
export function importsOf(src: string): string[] {
  const specs: string[] = [];
  const re = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;
  for (const m of src.matchAll(re)) specs.push(m[1] ?? m[2] ?? m[3]!);
  return specs;
}

const BANNED: [RegExp, string][] = [
  [/\bDate\b/, 'Date (time comes in events)'],
  [/\bMath\.random\b/, 'Math.random (the seed comes in an event)'],
  [/\b(setTimeout|setInterval|setImmediate|queueMicrotask)\b/, 'timers (use the deadline heap)'],
  [/\bperformance\b/, 'performance (time comes in events)'],
  [/\bprocess\b/, 'process'],
  [/\brequire\s*\(/, 'require'],
  [/\bawait\b|\basync\b/, 'async code (the core awaits nothing)'],
  [/\b(toLocale\w*|localeCompare)\b|\bIntl\b/, 'locale-dependent functions'],
  [/\bcrypto\b/, 'crypto (digests are injected)'],
  [/\bglobalThis\b/, 'globalThis'],
];

export function bannedUses(src: string): string[] {
  const code = stripCode(src);
  const found: string[] = [];
  code.split('\n').forEach((line, i) => {
    for (const [re, what] of BANNED) if (re.test(line)) found.push(`line ${i + 1}: ${what}`);
  });
  return found;
}

/** Which top-level areas a module may import (docs/architecture.md, "Layout and dependency direction"). */
const ALLOWED: Record<string, string[]> = {
  'src/protocol': ['src/protocol'],
  'src/core': ['src/core', 'src/protocol'],
  'src/replay': ['src/replay', 'src/core', 'src/protocol'],
  'src/reporting': ['src/reporting'],
  'src/names': ['src/names'],
};

/** Areas of ALLOWED that may also use Node's builtins (but no package). */
const NODE_BUILTINS_ALLOWED = new Set(['src/names']);

function area(file: string): string {
  const rel = relative(ROOT, file).split('\\').join('/');
  const parts = rel.split('/');
  return parts[0] === 'src' && parts.length > 2 ? `src/${parts[1]}` : parts[0] === 'src' ? 'src' : parts[0]!;
}

const MODEL_DIR = 'src/core/model/';

/** Path relative to the repository, with forward slashes. */
const rel = (file: string): string => relative(ROOT, file).split('\\').join('/');

/** True for files under src/core/model/: types only, importable from anywhere in the core. */
export const isModel = (file: string): boolean => rel(file).startsWith(MODEL_DIR);

/**
 * Runtime code in a model file. A model file holds data shapes, no behaviour: it may contain only
 * interfaces, type aliases, `import type` and `export type` (including `export type * from`), and
 * comments, so that it compiles to an empty module and importing it never adds a load-time edge.
 *
 * Decided against: `const enum` and `as const` objects, even of plain constants. Under
 * isolatedModules a const enum is emitted as an object and must be imported as a value, and an
 * `as const` object is a value too, so either makes the model a runtime module that other modules
 * load; a union of literal types (`type Slot = 1 | 2`) says the same as data. Constants belong with
 * the code that uses them, or in src/protocol when they are the wire format's.
 * Also refused: `import { type A }` (with verbatimModuleSyntax it stays a side-effect import), and
 * `export *` / `export { }` without `type`.
 * Parsed with the TypeScript parser, not a pattern: a statement list is easy to get right there.
 */
export function runtimeCodeInModel(src: string): string[] {
  const sf = ts.createSourceFile('model.ts', src, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out: string[] = [];
  for (const st of sf.statements) {
    if (ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) continue;
    if (ts.isImportDeclaration(st) && st.importClause?.phaseModifier === ts.SyntaxKind.TypeKeyword) continue;
    if (ts.isExportDeclaration(st) && st.isTypeOnly) continue;
    if (st.kind === ts.SyntaxKind.EmptyStatement) continue;
    const line = sf.getLineAndCharacterOfPosition(st.getStart(sf)).line + 1;
    const text = st.getText(sf).split('\n')[0]!.trim();
    out.push(`line ${line}: runtime code in a types-only model file (${text.length > 60 ? text.slice(0, 57) + '...' : text})`);
  }
  return out;
}

export function violations(file: string, src: string): string[] {
  const from = area(file);
  const out: string[] = [];
  const model = isModel(file);
  for (const spec of importsOf(src)) {
    if (!spec.startsWith('.')) {
      if (ALLOWED[from] && !(NODE_BUILTINS_ALLOWED.has(from) && spec.startsWith('node:'))) out.push(`${from} imports the package or builtin '${spec}'`);
      if (from === 'workers' && /src\/(core|shell)/.test(spec)) out.push(`workers import '${spec}'`);
      continue;
    }
    const target = area(resolve(dirname(file), spec));
    const allowed = ALLOWED[from];
    if (allowed && !allowed.includes(target)) out.push(`${from} imports ${target} ('${spec}')`);
    if (from === 'workers' && (target === 'src/core' || target === 'src/shell')) out.push(`workers import ${target} ('${spec}')`);
    const to = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    if (model && !isModel(to) && target !== 'src/protocol') out.push(`a model file imports ${rel(to)} ('${spec}'): only src/core/model and src/protocol`);
  }
  if (from === 'src/core' || from === 'src/protocol' || from === 'src/replay') out.push(...bannedUses(src));
  if (model) out.push(...runtimeCodeInModel(src));
  return out;
}

/**
 * Import graph of the core outside the model: file → files it imports (relative imports that
 * resolve to another such file; `import type`, `export ... from` and `import()` included). Keys
 * and values are paths relative to src/core.
 */
export function coreImportGraph(sources: ReadonlyMap<string, string>): Map<string, string[]> {
  const name = (file: string): string => rel(file).slice('src/core/'.length);
  const inCore = (file: string): boolean => rel(file).startsWith('src/core/') && !isModel(file);
  const graph = new Map<string, string[]>();
  for (const file of sources.keys()) if (inCore(file)) graph.set(name(file), []);
  for (const [file, src] of sources) {
    if (!inCore(file)) continue;
    const edges = new Set<string>();
    for (const spec of importsOf(src)) {
      if (!spec.startsWith('.')) continue;
      const to = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
      if (inCore(to) && graph.has(name(to))) edges.add(name(to));
    }
    graph.set(name(file), [...edges].sort());
  }
  return graph;
}

/** Strongly connected components with more than one file, or one file importing itself. */
export function knots(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  // Tarjan's algorithm; the core is a few dozen files, so recursion is fine.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return out.sort((a, b) => b.length - a.length || cmp(a[0]!, b[0]!));
}

/**
 * Import cycles, each as the files around it, first file repeated at the end. Not every
 * elementary cycle (a knot of 20 files has thousands): for every import inside a knot, the
 * shortest cycle through it, without repeats. Cutting every listed cycle removes the knot.
 */
export function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const seen = new Set<string>();
  const cycles: string[][] = [];
  for (const knot of knots(graph)) {
    const members = new Set(knot);
    for (const u of knot) {
      for (const v of graph.get(u) ?? []) {
        if (!members.has(v)) continue;
        // Shortest path v → u inside the knot (breadth first, neighbours in name order).
        const prev = new Map<string, string>([[v, v]]);
        const queue = [v];
        while (queue.length > 0 && !prev.has(u)) {
          const x = queue.shift()!;
          for (const y of graph.get(x) ?? []) if (members.has(y) && !prev.has(y)) (prev.set(y, x), queue.push(y));
        }
        const path = [u];
        for (let x = u; x !== v; x = prev.get(x)!) path.unshift(prev.get(x)!);
        // path is v … u; the cycle is u → v … → u. Start it at its smallest name to spot repeats.
        const ring = u === v ? [u] : [u, ...path.slice(0, -1)];
        const k = ring.indexOf([...ring].sort()[0]!);
        const canon = [...ring.slice(k), ...ring.slice(0, k)];
        const key = canon.join(' ');
        if (!seen.has(key)) (seen.add(key), cycles.push([...canon, canon[0]!]));
      }
    }
  }
  return cycles.sort((a, b) => a.length - b.length || cmp(a.join(' '), b.join(' ')));
}

export const MAX_LINES = 400;

/** Lines as `wc -l` counts them, plus a last line without a newline. */
export const lineCount = (src: string): number => (src === '' ? 0 : src.split('\n').length - (src.endsWith('\n') ? 1 : 0));

export function longFiles(sources: ReadonlyMap<string, string>, max = MAX_LINES): string[] {
  const out: string[] = [];
  for (const [file, src] of sources) {
    const n = lineCount(src);
    if (n > max) out.push(`${rel(file)}: ${n} lines (at most ${max})`);
  }
  return out.sort();
}

/** Bare (package or builtin) specifiers reachable from `entry` through static relative imports. */
export function reachablePackages(entry: string, read: (file: string) => string | null): Map<string, string> {
  const seen = new Set<string>();
  const packages = new Map<string, string>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const src = read(file);
    if (src === null) continue;
    for (const spec of importsOf(src)) {
      if (spec.startsWith('.')) stack.push(resolve(dirname(file), spec).replace(/\.js$/, '.ts'));
      else if (!packages.has(spec)) packages.set(spec, relative(ROOT, file));
    }
  }
  return packages;
}

const readIfExists = (f: string): string | null => {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return null;
  }
};

describe('architecture', () => {
  const hasWorkers = statSync(join(ROOT, 'workers'), { throwIfNoEntry: false })?.isDirectory() === true;
  const all = [...files(join(ROOT, 'src')), ...(hasWorkers ? files(join(ROOT, 'workers')) : [])];

  it('finds the pure modules to check', () => {
    expect(all.filter((f) => area(f) === 'src/core').length).toBeGreaterThan(5);
    expect(all.filter((f) => area(f) === 'src/protocol').length).toBeGreaterThan(3);
  });

  it('every module imports only what docs/architecture.md allows, and the core uses no banned API', () => {
    const problems: string[] = [];
    for (const f of all) for (const v of violations(f, readFileSync(f, 'utf8'))) problems.push(`${relative(ROOT, f)}: ${v}`);
    expect(problems).toEqual([]);
  });

  it('the server main thread never loads the reporting sinks (mqtt, better-sqlite3): only workers do', () => {
    const pkgs = reachablePackages(join(ROOT, 'src/main.ts'), readIfExists);
    expect(pkgs.size).toBeGreaterThan(3);
    expect(pkgs.has('piscina')).toBe(true);
    for (const banned of ['mqtt', 'better-sqlite3']) expect(pkgs.get(banned), `${banned} imported by ${pkgs.get(banned)}`).toBeUndefined();
    // and the finder does see a package behind a relative import
    const fake = new Map([[join(ROOT, 'x/a.ts'), "import './b.js';"], [join(ROOT, 'x/b.ts'), "import mqtt from 'mqtt';"]]);
    expect(reachablePackages(join(ROOT, 'x/a.ts'), (f) => fake.get(f) ?? null).get('mqtt')).toBe('x/b.ts');
  });

  it('the checker itself catches violations', () => {
    const core = join(ROOT, 'src/core/example.ts');
    expect(violations(core, "import { x } from 'node:dgram';")).toContain("src/core imports the package or builtin 'node:dgram'");
    expect(violations(core, "import pino from 'pino';")).toHaveLength(1);
    expect(violations(core, "import { y } from '../shell/driver.js';")).toEqual(["src/core imports src/shell ('../shell/driver.js')"]);
    expect(violations(join(ROOT, 'src/protocol/x.ts'), "export * from '../core/index.js';")).toHaveLength(1);
    expect(violations(core, 'const t = Date.now();')).toEqual(['line 1: Date (time comes in events)']);
    expect(violations(core, 'const r = Math.random();')).toHaveLength(1);
    expect(violations(core, 'setTimeout(f, 1);')).toHaveLength(1);
    expect(violations(core, "const n = (1.5).toLocaleString();")).toHaveLength(1);
    // Mentions in comments and strings are not uses.
    expect(violations(core, "// Date and Math.random are banned\nconst s = 'process';")).toEqual([]);
    expect(violations(join(ROOT, 'workers/w.ts'), "import { Core } from '../src/core/index.js';")).toHaveLength(1);
    expect(violations(join(ROOT, 'src/shell/d.ts'), "import dgram from 'node:dgram';")).toEqual([]);
    const names = join(ROOT, 'src/names/x.ts');
    expect(violations(names, "import { open } from 'node:fs/promises';")).toEqual([]);
    expect(violations(names, "import { z } from 'zod';")).toEqual(["src/names imports the package or builtin 'zod'"]);
    expect(violations(names, "import type { Logger } from '../shell/logger.js';")).toEqual(["src/names imports src/shell ('../shell/logger.js')"]);
  });

  it('the core outside src/core/model/ has no import cycle (type-only imports count)', () => {
    const sources = new Map(all.filter((f) => rel(f).startsWith('src/core/')).map((f) => [f, readFileSync(f, 'utf8')] as const));
    const graph = coreImportGraph(sources);
    expect(graph.size).toBeGreaterThan(5);
    const found = importCycles(graph).map((c) => c.join(' → '));
    const knotList = knots(graph).map((k) => `${k.length} files: ${k.join(', ')}`);
    expect({ knots: knotList, cycles: found }, 'src/core import cycles (paths relative to src/core)').toEqual({ knots: [], cycles: [] });
  });

  it('the README lists every file of src/core outside model/, each with a line saying what it is', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const listed = new Set([...readme.matchAll(/^(src\/core\/\S+\.ts)\s+\S/gm)].map((m) => m[1]!));
    const core = files(join(ROOT, 'src/core'))
      .map(rel)
      .filter((f) => !f.startsWith('src/core/model/'));
    expect(core.length).toBeGreaterThan(20);
    expect(core.filter((f) => !listed.has(f)), 'src/core files missing from the README architecture list').toEqual([]);
    expect([...listed].filter((f) => !core.includes(f)), 'README lines naming files that do not exist').toEqual([]);
    expect(readme).toMatch(/^src\/core\/model\/\s+types only/m);
  });

  it(`no file in src/ or workers/ is over ${MAX_LINES} lines`, () => {
    const every = [...files(join(ROOT, 'src'), true), ...(hasWorkers ? files(join(ROOT, 'workers'), true) : [])];
    expect(every.length).toBeGreaterThan(10);
    expect(longFiles(new Map(every.map((f) => [f, readFileSync(f, 'utf8')])))).toEqual([]);
  });

  it('the cycle finder catches cycles, type-only ones included, and leaves the model out', () => {
    const core = (p: string): string => join(ROOT, 'src/core', p);
    const tree = new Map([
      [core('sessions/options.ts'), "import { dial } from '../dial/index.js';\nexport const o = 1;"],
      [core('dial/index.ts'), "import type { User } from '../subscriptions/user.js';"],
      [core('subscriptions/user.ts'), "import type {\n  Options,\n} from '../sessions/options.js';\nimport type { Peer } from '../model/peer.js';"],
      [core('links/index.ts'), "export { GroupVoice } from '../streams/group-voice.js';"],
      [core('streams/group-voice.ts'), "import type { Links } from '../links/index.js';\nimport { x } from '../../protocol/bytes.js';"],
      [core('self.ts'), "const m = await import('./self.js');"],
      [core('router.ts'), "import { dial } from './dial/index.js';\nimport type { Peer } from './model/peer.js';"],
      // Model files import each other and are no part of the graph.
      [core('model/peer.ts'), "import type { Slot } from './slot.js';"],
      [core('model/slot.ts'), "import type { Peer } from './peer.js';"],
      [join(ROOT, 'src/shell/driver.ts'), "import { r } from '../core/router.js';"],
    ]);
    const graph = coreImportGraph(tree);
    expect([...graph.keys()].sort()).toEqual(['dial/index.ts', 'links/index.ts', 'router.ts', 'self.ts', 'sessions/options.ts', 'streams/group-voice.ts', 'subscriptions/user.ts']);
    expect(importCycles(graph)).toEqual([
      ['self.ts', 'self.ts'],
      ['links/index.ts', 'streams/group-voice.ts', 'links/index.ts'],
      ['dial/index.ts', 'subscriptions/user.ts', 'sessions/options.ts', 'dial/index.ts'],
    ]);
    expect(knots(graph)).toEqual([['dial/index.ts', 'sessions/options.ts', 'subscriptions/user.ts'], ['links/index.ts', 'streams/group-voice.ts'], ['self.ts']]);
    // One import less and the knot is gone.
    tree.set(core('dial/index.ts'), '// imports nothing');
    expect(importCycles(coreImportGraph(tree)).map((c) => c[0])).toEqual(['self.ts', 'links/index.ts']);
    // Two cycles sharing a file in one knot: both are listed.
    const g2 = new Map([['a.ts', ['b.ts', 'c.ts']], ['b.ts', ['a.ts']], ['c.ts', ['a.ts']]]);
    expect(importCycles(g2)).toEqual([['a.ts', 'b.ts', 'a.ts'], ['a.ts', 'c.ts', 'a.ts']]);
    expect(knots(g2)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('the line counter catches long files', () => {
    expect(lineCount('')).toBe(0);
    expect(lineCount('a\nb\n')).toBe(2);
    expect(lineCount('a\nb')).toBe(2);
    const long = 'x\n'.repeat(401);
    const src = new Map([[join(ROOT, 'src/core/router.ts'), long], [join(ROOT, 'workers/w.ts'), 'x\n'.repeat(400)]]);
    expect(longFiles(src)).toEqual(['src/core/router.ts: 401 lines (at most 400)']);
  });

  it('a model file holds types only and imports only the model and src/protocol', () => {
    const model = join(ROOT, 'src/core/model/peer.ts');
    const ok = [
      '// A peer as the core sees it.',
      "import type { Slot } from './slot.js';",
      "import type { PeerId } from '../../protocol/hbp/index.js';",
      "export type { Slot } from './slot.js';",
      "export type * from './stream.js';",
      '/** Logged in or not. */',
      "export type State = 'login' | 'ready';",
      'export type Kind =',
      "  | 'hotspot'",
      "  | 'repeater';",
      'export interface Peer {',
      '  readonly id: PeerId;',
      '  slot: Slot;',
      '}',
      'interface Local { a: number }',
      'type Both = Peer & Local',
    ].join('\n');
    expect(violations(model, ok)).toEqual([]);
    expect(violations(model, 'export const MAX = 4;')).toEqual(['line 1: runtime code in a types-only model file (export const MAX = 4;)']);
    expect(violations(model, "export type A = 1;\nexport const Slots = { one: 1, two: 2 } as const;")).toHaveLength(1);
    expect(violations(model, 'export const enum Slot { One = 1, Two = 2 }')).toHaveLength(1);
    expect(violations(model, 'export enum Slot { One = 1 }')).toHaveLength(1);
    expect(violations(model, 'export function f(): void {}')).toHaveLength(1);
    expect(violations(model, 'export class P {}')).toHaveLength(1);
    expect(violations(model, "import { type Slot } from './slot.js';")).toHaveLength(1);
    expect(violations(model, "import { Slot } from './slot.js';")).toHaveLength(1);
    expect(violations(model, "export * from './slot.js';")).toHaveLength(1);
    expect(violations(model, "export { Slot } from './slot.js';")).toHaveLength(1);
    expect(violations(model, 'export default 1;')).toHaveLength(1);
    expect(violations(model, "import type { Session } from '../sessions/session.js';")).toEqual([
      "a model file imports src/core/sessions/session.ts ('../sessions/session.js'): only src/core/model and src/protocol",
    ]);
    expect(violations(model, "import type { Config } from '../../config/schema.js';")).toHaveLength(2);
    // The rest of the core may import the model, and is not held to types only.
    expect(violations(join(ROOT, 'src/core/router.ts'), "import type { Peer } from './model/peer.js';\nexport const x = 1;")).toEqual([]);
  });
});
