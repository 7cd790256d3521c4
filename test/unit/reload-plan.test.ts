// What a SIGHUP reload applies and what it names as waiting for a restart (src/shell/reload.ts).

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import type { AppConfig } from '../../src/config/types.js';
import { planReload } from '../../src/shell/reload.js';

const BASE = '/srv/dmrhub';
function load(text: string): AppConfig {
  const r = parseConfigText(text, BASE);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}
const same = (c: AppConfig['core']): AppConfig['core'] => c;

describe('reload plan', () => {
  it('an unchanged file changes nothing and names nothing', () => {
    const a = load('[server]\nid = 9991\n');
    const p = planReload(a, load('[server]\nid = 9991\n'), same);
    expect(p).toMatchObject({ restartKeys: [], restartLinks: [], restartUplinks: [], reporting: false, record: false, prompts: false });
  });

  it('names each key that waits for a restart and keeps its running value', () => {
    const a = load('[hbp]\nport = 62031\n[log]\npretty = false\n[record]\nflight_recorder_events = 1000\n');
    const b = load('[hbp]\nport = 62032\naddress = "0.0.0.0"\nrecv_buffer_bytes = 65536\n[log]\npretty = true\nlevel = "debug"\n[record]\nflight_recorder_events = 5\n');
    const p = planReload(a, b, same);
    expect(p.restartKeys).toEqual(['hbp.address', 'hbp.port', 'hbp.recv_buffer_bytes', 'record.flight_recorder_events', 'log.pretty']);
    expect(p.app.hbp).toEqual(a.hbp);
    expect(p.app.log).toEqual({ level: 'debug', pretty: false });
    expect(p.app.record.flightRecorderEvents).toBe(1000);
  });

  it('reporting, recording and prompts changes are applied, not named', () => {
    const a = load('[mqtt]\nurl = "mqtt://127.0.0.1:1883"\npassword = "old"\n');
    const b = load('[mqtt]\nurl = "mqtt://127.0.0.1:1883"\npassword = "new"\n[record]\nenabled = true\npath = "elsewhere.ndjson"\n[prompts]\ndirectory = "p"\n');
    const p = planReload(a, b, same);
    expect(p).toMatchObject({ restartKeys: [], reporting: true, record: true, prompts: true });
    expect(p.app.mqtt.password).toBe('new');
    expect(p.app.record.path).toBe(join(BASE, 'elsewhere.ndjson'));
    for (const t of ['[sql]\nenabled = false\n', '[reporting]\nbatch_size = 7\n', '[server]\nname = "other"\n']) expect(planReload(load(''), load(t), same).reporting, t).toBe(true);
  });
});
