// Synthetic subscriber databases shaped like the RadioID downloads (users.json, user.csv), for the
// names tests and bench: seeded, so every run writes the same file. Field lengths follow the real
// files: 7-digit IDs, 4-6 character callsigns, first names and surnames of 3-20 characters, some
// with accents or in Cyrillic or Greek, city, state and country.

import { writeFileSync } from 'node:fs';
import { prng } from './prng.js';

export interface SynthSubscriber {
  id: number;
  callsign: string;
  fname: string;
  surname: string;
  city: string;
  state: string;
  country: string;
}

const FIRST = ['John', 'Maria', 'José', 'Peter', 'Anna', 'Jürgen', 'François', 'Giovanni', 'Olga', 'Дмитрий', 'Γιώργος', 'Wei', 'Siobhán', 'Bartholomew', 'Li', 'Mohammed', 'Ingrid', 'Kazimierz', 'Zoë', 'Tom'];
const LAST = ['Smith', 'García López', 'Müller', 'Rossi', 'Kowalski', 'Иванов', 'Παπαδόπουλος', 'O’Brien', 'Nguyen', 'van der Berg', 'Johansson', 'Dubois', 'Fernández de la Vega', 'Ng', 'Wright'];
const CITIES = ['London', 'Madrid', 'São Paulo', 'Zürich', 'New York City', 'Kraków', 'Москва', 'Athens', 'Cork', 'Tokyo'];
const STATES = ['England', 'Madrid', 'São Paulo', 'Zürich', 'New York', 'Małopolskie', 'Moscow', 'Attica', 'Munster', ''];
const COUNTRIES = ['United Kingdom', 'Spain', 'Brazil', 'Switzerland', 'United States', 'Poland', 'Russia', 'Greece', 'Ireland', 'Japan'];
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * `n` subscribers with distinct IDs. Like the real downloads the IDs mostly ascend, but one in
 * fifty is placed out of order, so a loader that assumed sorted input would be caught.
 */
export function synthSubscribers(n: number, seed = 1): SynthSubscriber[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const out: SynthSubscriber[] = [];
  let id = 1_000_000;
  for (let i = 0; i < n; i++) {
    id += 1 + Math.floor(rnd() * 30);
    const c = Math.floor(rnd() * COUNTRIES.length);
    const prefix = pick(['G', 'M', 'EA', 'PY', 'HB9', 'SP', 'R', 'SV', 'EI', 'JA', 'W', 'K', 'N']);
    const digit = String(Math.floor(rnd() * 10));
    let suffix = '';
    const len = 1 + Math.floor(rnd() * 3);
    for (let k = 0; k < len; k++) suffix += LETTERS[Math.floor(rnd() * 26)];
    out.push({ id, callsign: prefix + digit + suffix, fname: pick(FIRST), surname: pick(LAST), city: CITIES[c]!, state: STATES[c]!, country: COUNTRIES[c]! });
  }
  for (let i = 0; i + 50 < n; i += 50) {
    const j = i + Math.floor(rnd() * 50);
    const k = Math.floor(rnd() * n);
    const t = out[j]!;
    out[j] = out[k]!;
    out[k] = t;
  }
  return out;
}

/** RadioID users.json: {"users": [...]}, one line, like the download. */
export function writeUsersJson(path: string, subs: readonly SynthSubscriber[]): void {
  const parts: string[] = [];
  for (const s of subs) {
    parts.push(
      JSON.stringify({ fname: s.fname, name: s.fname, country: s.country, callsign: s.callsign, city: s.city, surname: s.surname, radio_id: s.id, id: s.id, remarks: 'DMR', state: s.state }),
    );
  }
  writeFileSync(path, `{"users":[${parts.join(',')}]}`);
}

/** RadioID user.csv: a header row, then one subscriber a line. */
export function writeUserCsv(path: string, subs: readonly SynthSubscriber[]): void {
  const q = (s: string): string => (/[",]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = ['RADIO_ID,CALLSIGN,FIRST_NAME,LAST_NAME,CITY,STATE,COUNTRY'];
  for (const s of subs) lines.push([s.id, s.callsign, s.fname, s.surname, s.city, s.state, s.country].map((v) => q(String(v))).join(','));
  writeFileSync(path, lines.join('\r\n') + '\r\n');
}

/** The name a loader should give a subscriber: first name and surname. */
export const fullName = (s: SynthSubscriber): string => `${s.fname} ${s.surname}`;
