// The [console] keys naming the subscriber and talkgroup name files: defaults, paths, errors.

import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatConfigErrors, parseConfigText } from '../../src/config/load.js';

const BASE = resolve('/srv/dmrhub');

describe('[console] name files', () => {
  it('default to none', () => {
    const r = parseConfigText('', BASE);
    expect(r.ok && r.config.names).toEqual({ subscribers: [], talkgroups: [] });
  });

  it('take one path or a list, relative to the config file', () => {
    const r = parseConfigText('[console]\nsubscriber_names = "user.csv"\ntalkgroup_names = ["/var/lib/dmrhub/talkgroup_ids.json", "local/tgs.json"]\n', BASE);
    if (!r.ok) throw new Error(formatConfigErrors(r.errors, 'text'));
    expect(r.config.names).toEqual({
      subscribers: [resolve(BASE, 'user.csv')],
      talkgroups: ['/var/lib/dmrhub/talkgroup_ids.json', resolve(BASE, 'local/tgs.json')],
    });
  });

  it('a bad value is named with its line', () => {
    const r = parseConfigText('[server]\nid = 1\n\n[console]\nsubscriber_names = 5\ntalkgroup_names = ["a.json", ""]\n', BASE);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const what = 'expected a file path or a list of up to 16 file paths, e.g. "user.csv" or ["users.json", "local.csv"]';
    expect(r.errors).toEqual([
      { key: 'console.subscriber_names', line: 5, message: `${what}, got 5` },
      { key: 'console.talkgroup_names.1', line: 6, message: `${what}, got ""` },
    ]);
  });

  it('an unknown key in [console] lists the known ones', () => {
    const r = parseConfigText('[console]\nsubscribers = "x.csv"\n', BASE);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([{ key: 'console.subscribers', line: 2, message: 'unknown key in [console]; expected one of enabled, address, port, token, subscriber_names, talkgroup_names, audit_log, snapshot_interval' }]);
  });
});
