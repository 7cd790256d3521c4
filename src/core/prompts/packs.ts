// The voice prompt packs by language, from the `prompts-loaded` event.

import type { PromptPackData } from '../inputs.js';

export class PromptPacks {
  private readonly byLang = new Map<string, PromptPackData>();

  replace(packs: readonly PromptPackData[]): void {
    this.byLang.clear();
    for (const p of packs) this.byLang.set(p.lang, p);
  }

  get(lang: string): PromptPackData | undefined {
    return this.byLang.get(lang);
  }

  get size(): number {
    return this.byLang.size;
  }
}
