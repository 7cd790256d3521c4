// Dependency direction (design.md §2) and the core's banned APIs (design.md §3), checked by reading
// the sources. Also src/core/model/ holding types only. Every scanner is tested on synthetic input
// too, so this test can fail.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

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

/** Which top-level areas a module may import (design.md §2). */
const ALLOWED: Record<string, string[]> = {
  'src/protocol': ['src/protocol'],
  'src/core': ['src/core', 'src/protocol'],
  'src/replay': ['src/replay', 'src/core', 'src/protocol'],
  'src/reporting': ['src/reporting'],
};

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
      if (ALLOWED[from]) out.push(`${from} imports the package or builtin '${spec}'`);
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
  const all = [...files(join(ROOT, 'src')), ...(statSync(join(ROOT, 'workers'), { throwIfNoEntry: false })?.isDirectory() ? files(join(ROOT, 'workers')) : [])];

  it('finds the pure modules to check', () => {
    expect(all.filter((f) => area(f) === 'src/core').length).toBeGreaterThan(5);
    expect(all.filter((f) => area(f) === 'src/protocol').length).toBeGreaterThan(3);
  });

  it('every module imports only what design.md §2 allows, and the core uses no banned API', () => {
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
