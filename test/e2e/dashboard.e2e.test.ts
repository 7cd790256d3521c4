// The operator dashboard in a real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core; no browser is ever downloaded): the built server with its console on a free
// loopback port, hotspots logged in over UDP, a call made and watched from the page, then the
// operator's disconnect with a wrong token (refused, shown, nothing changes) and the right one.
// Screenshots are kept in test-artifacts/dashboard/ (gitignored; the path is printed).
// UPDATE_SCREENSHOT=1 also writes the README's picture, docs/console.png.

import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { encodeDmrd, fromHex } from '../../src/protocol/index.js';
import type { HbpClient, LoginOptions } from '../support/hbp-client.js';
import { REPO_ROOT, serversFixture, type ServerHandle } from '../support/server-process.js';
import { REF_CALLS } from '../support/voice-frames.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`dashboard.e2e: ${CHROMIUM} not found (Debian package chromium): the browser test is skipped`);

const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'dashboard');
const NAMES = join(REPO_ROOT, 'test', 'fixtures', 'console-names');
const TOKEN = 'console-test-token-5b1e';

/**
 * A group voice call as it comes from a radio, paced like one (a frame each 60 ms): the voice
 * header, then superframes of bursts A–F until `stop()`, then the terminator. Resolves when the
 * terminator has been sent.
 */
function talk(radio: HbpClient, o: { src: number; tg: number; slot: 1 | 2; streamId: number; ber?: number; rssi?: number }): { stop(): void; done: Promise<void> } {
  const ref = REF_CALLS[0]!;
  let seq = 0;
  let stopping = false;
  const frame = (frame: number, hex: string): Uint8Array =>
    encodeDmrd({ seq: seq++, src: o.src, dst: o.tg, peerId: radio.peerId, slot: o.slot, frame, streamId: o.streamId, payload: fromHex(hex)!, ber: o.ber ?? 0, rssi: o.rssi ?? 0 });
  // At most 2 minutes of voice, so a failed test never leaves it talking.
  const done = (async () => {
    radio.send(frame(0x21, ref.head));
    for (let i = 0; !stopping && i < 2000; i++) {
      await new Promise((r) => setTimeout(r, 60));
      if (stopping) break;
      radio.send(frame(i % 6 === 0 ? 0x10 : i % 6, ref.bursts[i % 6]!));
    }
    await new Promise((r) => setTimeout(r, 60));
    radio.send(frame(0x22, ref.term));
  })();
  // A test that fails mid-call closes the radio under the loop: that is reported by the test's
  // own failure, so the loop's rejection is marked handled here (awaiting `done` still sees it).
  done.catch(() => {});
  return {
    stop: () => {
      stopping = true;
    },
    done,
  };
}

async function shot(page: Page, name: string): Promise<string> {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** What the server itself says its peers are (not what the page shows). */
async function serverPeers(base: string): Promise<number[]> {
  const r = await fetch(`${base}api/v1/peers`);
  const body = (await r.json()) as { peers: { id: number }[] };
  return body.peers.map((p) => p.id);
}

describe.skipIf(!haveChromium)('the dashboard in headless Chromium', () => {
  const fx = serversFixture();
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    console.log(`dashboard.e2e: screenshots in ${ARTIFACTS}`);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** A server with its console on a port the OS picks (read from the console.listening log line). */
  async function startWithConsole(token: string): Promise<{ s: ServerHandle; base: string }> {
    const s = await fx.start({
      config: {
        server: { name: 'hub-test' },
        console: {
          enabled: true,
          address: '127.0.0.1',
          port: 0,
          token,
          subscriber_names: [join(NAMES, 'subscriber_ids.json')],
          talkgroup_names: [join(NAMES, 'talkgroup_ids.json')],
        },
      },
    });
    const l = await s.waitForLog((x) => x['code'] === 'console.listening', 5000, 'console.listening');
    return { s, base: `http://127.0.0.1:${String(l['port'])}/` };
  }

  async function hotspot(s: ServerHandle, id: number, callsign: string, options: string, rptc: LoginOptions['rptc']): Promise<HbpClient> {
    const c = await fx.radio(id);
    await c.login('127.0.0.1', s.port, { passphrase: 'passw0rd', options, callsign, rptc });
    return c;
  }

  it('shows hotspots, a live call with its names within 1 s, its end in last heard, and the disconnect command', async () => {
    const { s, base } = await startWithConsole(TOKEN);
    // The names file is loaded (after start, off the packet path) before the page is opened.
    const names = await s
      .waitForLog((l) => l['code'] === 'console.names-loaded' || l['code'] === 'console.names-failed', 10_000, 'the console loading the names')
      .catch((err: unknown) => ({ code: 'none', msg: String(err) }));
    expect(names['code'], `the console's names: ${String(names['msg'])}`).toBe('console.names-loaded');
    const leeds = await hotspot(s, 234567801, 'M0ABC', 'TS1=2350;TS2=91', { location: 'Leeds', softwareId: '20240101_Pi-Star', packageId: 'MMDVM_HS_Hat', slots: '4' });
    const york = await hotspot(s, 234567902, 'G4XYZ', 'TS1=2350', { location: 'York', softwareId: 'DMRGateway-20240101', packageId: 'MMDVM', slots: '3' });
    const hamburg = await hotspot(s, 262450101, 'DL1ABC', 'TS2=262;TS1=2350', { location: 'Hamburg', softwareId: 'WPSD', packageId: 'MMDVM_HS_Dual_Hat', slots: '3' });

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(base);

    // The hotspots are listed with their callsigns.
    for (const [c, call] of [
      [leeds, 'M0ABC'],
      [york, 'G4XYZ'],
      [hamburg, 'DL1ABC'],
    ] as const) {
      await page.locator(`#peers-body tr[data-peer="${c.peerId}"]`).getByText(call, { exact: true }).waitFor({ timeout: 5000 });
    }
    expect(await page.locator(`#peers-body tr[data-peer="${hamburg.peerId}"]`).textContent()).toContain('Hamburg');
    // A hotspot that logs in while the page is open is listed within 1 s.
    await page.locator('#live[data-state="live"]').waitFor({ timeout: 5000 });
    const tLogin = performance.now();
    const gent = await hotspot(s, 206123401, 'ON4EE', 'TS2=206', { location: 'Gent', softwareId: 'MMDVM_Pi-Star', slots: '4' });
    await page.locator(`#peers-body tr[data-peer="${gent.peerId}"]`).getByText('ON4EE', { exact: true }).waitFor({ timeout: 1000 });
    console.log(`dashboard.e2e: a new hotspot on the page ${(performance.now() - tLogin).toFixed(0)} ms after its login began`);
    // Without a token there are no command buttons.
    expect(await page.locator('#peers-body [data-cmd="disconnect"]').first().isVisible()).toBe(false);
    // Wait until the event stream is open, so the timing below measures the live path.
    await page.locator('#live[data-state="live"]').waitFor({ timeout: 5000 });

    // A call: on the air within 1 s, with the talker's callsign and name from the names file.
    const streamId = 0x5e1f00a3;
    const t0 = performance.now();
    const call = talk(leeds, { src: 2345678, tg: 2350, slot: 1, streamId, ber: 2, rssi: 71 });
    onTestFinished(async () => {
      call.stop();
      await call.done.catch(() => {});
    });
    const row = page.locator('#calls-body tr[data-stream="5e1f00a3"]');
    await row.and(page.locator('.talking')).waitFor({ timeout: 1000 });
    const shownMs = performance.now() - t0;
    await expect.poll(() => row.locator('.src-name').textContent(), { timeout: Math.max(1, 1000 - (performance.now() - t0)), interval: 20 }).toBe('Alice Archer');
    const namedMs = performance.now() - t0;
    console.log(`dashboard.e2e: call on the page ${shownMs.toFixed(0)} ms after its first packet, with its name ${namedMs.toFixed(0)} ms`);
    expect(await row.textContent()).toContain('M0ABC');
    expect(await row.textContent()).toContain('UK Call');
    await expect.poll(() => page.locator('#talkgroups-body tr[data-tg="2350"]').textContent(), { timeout: 3000 }).toContain('M0ABC');
    await page.waitForTimeout(1500); // the duration counts up
    await shot(page, 'call-live');

    // The call ends: it fades off the air list and is in last heard with its names.
    call.stop();
    await call.done;
    const heard = page.locator('#lastheard-body tr[data-stream="5e1f00a3"]');
    await heard.waitFor({ timeout: 3000 });
    expect(await heard.textContent()).toContain('M0ABC');
    expect(await heard.locator('.src-name').textContent()).toBe('Alice Archer');
    expect(await heard.textContent()).toContain('UK Call');
    await row.and(page.locator('.ended')).waitFor({ timeout: 2000 });
    await shot(page, 'call-ended');
    await row.waitFor({ state: 'detached', timeout: 6000 });

    // Another call, with the first one in last heard: the README's picture.
    const second = talk(hamburg, { src: 2624501, tg: 262, slot: 2, streamId: 0x26200b01, ber: 0, rssi: 64 });
    onTestFinished(async () => {
      second.stop();
      await second.done.catch(() => {});
    });
    const row2 = page.locator('#calls-body tr[data-stream="26200b01"]');
    await row2.and(page.locator('.talking')).waitFor({ timeout: 1000 });
    await expect.poll(() => row2.locator('.src-name').textContent(), { timeout: 1000, interval: 20 }).toBe('Dieter Lang');
    await page.waitForTimeout(2200);
    const screenshot = await shot(page, 'dashboard');
    if (process.env['UPDATE_SCREENSHOT'] === '1') copyFileSync(screenshot, join(REPO_ROOT, 'docs', 'console.png'));
    second.stop();
    await second.done;
    await page.locator('#lastheard-body tr[data-stream="26200b01"]').waitFor({ timeout: 3000 });

    // The talkgroup view: a click on TG 2350 shows its calls only in last heard.
    await page.locator('#talkgroups-body tr[data-tg="2350"] a').click();
    await page.locator('#lastheard-body tr[data-stream="26200b01"]').waitFor({ state: 'detached', timeout: 3000 });
    expect(await page.locator('#lastheard-body tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-tg')))).toEqual(['2350']);
    expect(await page.inputValue('#lh-filter input[name="tg"]')).toBe('2350');
    await page.click('#lh-filter button[type="reset"]');
    await page.locator('#lastheard-body tr[data-stream="26200b01"]').waitFor({ timeout: 3000 });

    // The same page on a phone: nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    // A string, run in the page: the test is compiled without the DOM's types.
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    await shot(page, 'phone');
    expect(overflow).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 900 });

    // A wrong token: the command is refused, the refusal is shown, and the peer stays.
    await page.fill('#token-input', 'not-the-token');
    await page.click('#token-form button[type="submit"]');
    const yorkRow = page.locator(`#peers-body tr[data-peer="${york.peerId}"]`);
    await yorkRow.locator('[data-cmd="disconnect"]').click();
    await page.click('#confirm-ok');
    const notice = page.locator('#notice[data-kind="error"]');
    await notice.waitFor({ timeout: 3000 });
    expect(await notice.textContent()).toContain('unauthorized');
    await shot(page, 'refused');
    expect(await serverPeers(base)).toContain(york.peerId);
    expect(await yorkRow.isVisible()).toBe(true);

    // The right token: the peer is disconnected and leaves the list.
    await page.click('#forget-token');
    await page.fill('#token-input', TOKEN);
    await page.click('#token-form button[type="submit"]');
    await yorkRow.locator('[data-cmd="disconnect"]').click();
    await page.click('#confirm-ok');
    const ok = page.locator('#notice[data-kind="ok"]');
    await ok.waitFor({ timeout: 3000 });
    expect(await ok.textContent()).toContain('Disconnected G4XYZ');
    await yorkRow.waitFor({ state: 'detached', timeout: 3000 });
    // The API's peer list follows the core's state report, about a second behind the event.
    await expect.poll(() => serverPeers(base), { timeout: 3000 }).not.toContain(york.peerId);
    expect(await page.locator(`#peers-body tr[data-peer="${leeds.peerId}"]`).isVisible()).toBe(true);
    await shot(page, 'disconnected');

    // Block, with the time asked for in the page's dialog, and reload: both carried out.
    await page.locator(`#peers-body tr[data-peer="${gent.peerId}"] [data-cmd="block"]`).click();
    await page.fill('#confirm-seconds', '90');
    await page.click('#confirm-ok');
    await expect.poll(() => page.locator('#notice[data-kind="ok"]').textContent(), { timeout: 3000 }).toContain('Blocked ON4EE for 90 s');
    // A block also ends the peer's session.
    await page.locator(`#peers-body tr[data-peer="${gent.peerId}"]`).waitFor({ state: 'detached', timeout: 3000 });
    await page.click('#reload-btn');
    await page.click('#confirm-ok');
    await expect.poll(() => page.locator('#notice[data-kind="ok"]').textContent(), { timeout: 6000 }).toContain('Configuration reloaded');

    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('on a server without a token, says it is read-only and shows the refusal of a command', async () => {
    const { s, base } = await startWithConsole('');
    const peer = await hotspot(s, 310000101, 'N0CALL', 'TS2=91', { location: 'Denver', softwareId: 'MMDVM_Pi-Star', slots: '4' });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(base);
    const row = page.locator(`#peers-body tr[data-peer="${peer.peerId}"]`);
    await row.getByText('N0CALL', { exact: true }).waitFor({ timeout: 5000 });
    // The page says so, and asks for no token.
    await page.locator('#read-only').waitFor({ timeout: 3000 });
    expect(await page.locator('#token-form').isVisible()).toBe(false);
    // A token kept from before (sessionStorage) still shows the commands; the server refuses them.
    await page.evaluate(`sessionStorage.setItem('dmrhub.console.token', 'left-over-token-123456')`);
    await page.reload();
    await row.locator('[data-cmd="disconnect"]').click();
    await page.click('#confirm-ok');
    const notice = page.locator('#notice[data-kind="error"]');
    await notice.waitFor({ timeout: 3000 });
    expect(await notice.textContent()).toContain('unauthorized');
    await shot(page, 'read-only-refused');
    expect(await serverPeers(base)).toContain(peer.peerId);
    expect(await row.isVisible()).toBe(true);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
