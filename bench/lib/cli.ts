// Small helpers shared by the bench CLIs.

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** True when the module at `metaUrl` is the script node was started with. */
export function isMain(metaUrl: string): boolean {
  const argv1 = process.argv[1];
  if (argv1 === undefined) return false;
  try {
    const self = realpathSync(fileURLToPath(metaUrl));
    const started = realpathSync(argv1);
    return self === started || self.replace(/\.ts$/, '.js') === started.replace(/\.ts$/, '.js');
  } catch {
    return false;
  }
}

export function num(v: string | boolean | undefined, name: string, fallback: number): number;
export function num(v: string | boolean | undefined, name: string, fallback?: number): number | undefined;
export function num(v: string | boolean | undefined, name: string, fallback?: number): number | undefined {
  if (v === undefined || typeof v === 'boolean') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name}: expected a number, got ${JSON.stringify(v)}`);
  return n;
}

export function str(v: string | boolean | undefined, fallback: string): string {
  return typeof v === 'string' ? v : fallback;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
