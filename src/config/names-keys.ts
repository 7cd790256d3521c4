// The [console] keys that name the subscriber and talkgroup name files (src/names). Each takes a
// file path or a list of them; later files win over earlier ones for the same ID. Relative paths
// are taken from the config file's directory (load.ts). The files themselves are read after
// start and at each reload, not when the config is checked: a download may come later.

import { z } from 'zod';
import { expecting } from './fields.js';

const MAX_FILES = 16;
const what = `a file path or a list of up to ${MAX_FILES} file paths, e.g. "user.csv" or ["users.json", "local.csv"]`;

function nameFiles() {
  const e = expecting(what);
  const path = z.string(e).min(1, e).max(4096, e);
  return z
    .union([path.transform((p) => [p]), z.array(path, e).max(MAX_FILES, e)], e)
    .default(() => []);
}

/** The keys, to be spread into the [console] section's shape. */
export const namesKeys = {
  subscriber_names: nameFiles(),
  talkgroup_names: nameFiles(),
};
