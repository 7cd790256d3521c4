// Operator commands. They appear once a token is given; the token is kept in sessionStorage (this
// tab only, gone when it closes) and sent as a Bearer token. The server decides: a refusal is shown
// as it comes, with its error code.

const TOKEN_KEY = 'dmrhub.console.token';
const API = 'api/v1/';
const $ = (id) => document.getElementById(id);

let hooks = { refresh: () => {} };
let noticeTimer = 0;

function token() {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

function setToken(t) {
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
  const on = t !== '';
  document.body.classList.toggle('operator', on);
  $('token-form').hidden = on;
  $('operator-tools').hidden = !on;
}

/** Show a message under the header: kind "ok" fades after a while, "error" stays until clicked. */
export function notice(kind, text) {
  const el = $('notice');
  el.dataset.kind = kind;
  el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  el.textContent = text;
  el.hidden = false;
  clearTimeout(noticeTimer);
  if (kind !== 'error') noticeTimer = setTimeout(() => (el.hidden = true), 6000);
}

/** POST a command; true when the server carried it out. */
async function command(path, body, done) {
  let r;
  let reply = null;
  try {
    r = await fetch(API + path, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token()}`, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body ?? {}),
    });
    reply = await r.json().catch(() => null);
  } catch (err) {
    notice('error', `Not sent: ${err.message ?? err}`);
    return false;
  }
  if (!r.ok || reply?.ok !== true) {
    const code = reply?.error?.code ?? `http_${r.status}`;
    const msg = reply?.error?.message ?? r.statusText;
    const hint = code === 'unauthorized' ? ' Check the token (Lock, then enter it again).' : '';
    notice('error', `Refused (${code}): ${msg}.${hint}`);
    return false;
  }
  notice('ok', done);
  return true;
}

/** Ask with the page's own dialog; resolves with null (cancelled) or the seconds field's value. */
function ask(text, withSeconds) {
  const dlg = $('confirm');
  $('confirm-text').textContent = text;
  $('confirm-seconds-row').hidden = !withSeconds;
  return new Promise((resolve) => {
    dlg.addEventListener(
      'close',
      () => {
        if (dlg.returnValue !== 'ok') return resolve(null);
        resolve(withSeconds ? Number($('confirm-seconds').value) : 0);
      },
      { once: true },
    );
    dlg.returnValue = '';
    dlg.showModal();
  });
}

export async function askDisconnect(p) {
  if ((await ask(`Disconnect ${p.callsign || p.id} (${p.id})? It may log in again at once.`, false)) === null) return;
  if (await command(`peers/${p.id}/disconnect`, {}, `Disconnected ${p.callsign || p.id}.`)) {
    hooks.refresh('peers');
    hooks.refresh('talkgroups');
  }
}

export async function askBlock(p) {
  const seconds = await ask(`Block ${p.callsign || p.id} (${p.id}): refuse its logins for how long?`, true);
  if (seconds === null) return;
  if (!Number.isInteger(seconds) || seconds < 1) return notice('error', 'Not sent: the time is a whole number of seconds, at least 1.');
  if (await command(`peers/${p.id}/block`, { seconds }, `Blocked ${p.callsign || p.id} for ${seconds} s.`)) {
    hooks.refresh('peers');
    hooks.refresh('talkgroups');
  }
}

async function askReload() {
  if ((await ask('Reload the configuration file now?', false)) === null) return;
  if (await command('reload', {}, 'Configuration reloaded.')) {
    hooks.refresh('server');
    hooks.refresh('peers');
  }
}

/** A server without a token refuses every command: say so instead of asking for a token. */
export function setReadOnly(readOnly) {
  $('read-only').hidden = !readOnly;
  if (readOnly && token() === '') $('token-form').hidden = true;
  else if (!readOnly && token() === '') $('token-form').hidden = false;
}

export function initOperator(h) {
  hooks = h;
  setToken(token());
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const t = $('token-input').value.trim();
    $('token-input').value = '';
    setToken(t);
  });
  $('forget-token').addEventListener('click', () => setToken(''));
  $('reload-btn').addEventListener('click', () => void askReload());
  $('notice').addEventListener('click', () => ($('notice').hidden = true));
}
