// Builds dist/ for npm's lifecycle scripts (package.json "prepare" and "prepack").
//
//   node scripts/build.mjs --prepare   `npm install` / `npm ci` in a clone: build with TypeScript; when
//                                      TypeScript is absent (npm ci --omit=dev) keep the dist/ that is
//                                      there, or fail saying how to build it
//   node scripts/build.mjs --clean     `npm pack` / `npm publish`: a fresh dist/, so no output of a
//                                      deleted source file is shipped
//
// A tarball (npm pack) carries dist/ and is installed without building anything: production boxes
// need neither TypeScript nor this script.

import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const MAIN = join(ROOT, 'dist', 'src', 'main.js');
const mode = process.argv[2];
if (mode !== '--prepare' && mode !== '--clean') {
  console.error('usage: node scripts/build.mjs --prepare | --clean');
  process.exit(2);
}

// npm pack and npm publish run prepack (a clean build) and then prepare: build once.
if (mode === '--prepare' && (process.env.npm_command === 'pack' || process.env.npm_command === 'publish')) process.exit(0);

let tsc = null;
try {
  tsc = createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc');
} catch {
  // devDependencies not installed
}

if (tsc === null) {
  if (mode === '--prepare' && existsSync(MAIN)) {
    const built = statSync(MAIN).mtime.toISOString().slice(0, 16).replace('T', ' ');
    console.log(`dmrhub: TypeScript is not installed (--omit=dev), so dist/ is used as it is (built ${built} UTC). After changing or pulling the sources, build again with the dev dependencies: npm ci (it builds), then npm prune --omit=dev.`);
    process.exit(0);
  }
  console.error(
    'dmrhub: dist/ is not built and TypeScript is not installed (--omit=dev). Install with the dev dependencies\n' +
      '(which builds dist/), then drop them:\n' +
      '  npm ci && npm prune --omit=dev\n' +
      'or install a package made with `npm pack`, which carries dist/.',
  );
  process.exit(1);
}

if (mode === '--clean') rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
process.exit(r.status ?? 1);
