import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import AxeBuilder from '@axe-core/playwright';
import { WaSimControlClient } from '@wagw/wa-sim';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { type ApiProcess, call, cliCreateApiKey, startApiProcess } from '../support/api-process.js';
import { freePort, REPO_ROOT } from '../support/processes.js';

/**
 * The web console in a real browser (Debian's Chromium driven by playwright-core) against
 * `npm run start:sandbox` (API + gateway driving Baileys + simulated network in one process),
 * and against `npm start` on the real network (no sandbox phone): sign in, create a session,
 * see its QR, pair it by playing the phone in the sandbox panel, watch it turn `working` with no
 * reload, stop, start, log out, delete; the pairing-code flow; gateways; a 390 px phone screen.
 * Every page is screenshotted (test-artifacts/console/) and checked with axe; no request may
 * leave the machine.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts/console');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

describe('the web console', () => {
  let dataDir: string;
  let profileDir: string;
  let api: ApiProcess;
  let context: BrowserContext;
  let adminKey: string;
  let memberKey: string;
  let simPort: number;
  /** `npm start` (the real WhatsApp network): no sandbox. */
  let real: ApiProcess;
  let realDir: string;
  let realKey: string;
  /** Requests the browser tried to send off this machine (aborted). */
  const external: string[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'wagw-console-'));
    profileDir = await mkdtemp(join(tmpdir(), 'wagw-chromium-'));
    await mkdir(ARTIFACTS, { recursive: true });
    simPort = await freePort();
    // `npm start` on the real network beside it, booting at the same time (no session starts
    // there: a test never talks to WhatsApp).
    realDir = await mkdtemp(join(tmpdir(), 'wagw-console-real-'));
    const realStarted = (async () => {
      real = await startApiProcess(
        { DATA_DIR: realDir, WA_SIM_PORT: String(await freePort()) },
        ['--embedded-gateway'],
        120_000,
      );
      realKey = (await cliCreateApiKey({ DATA_DIR: realDir }, 'org_console_real')).secret;
    })();
    // Awaited below; if the sandbox's start fails first, this one's failure is not unhandled.
    realStarted.catch(() => undefined);
    api = await startApiProcess(
      { DATA_DIR: dataDir, WA_NETWORK: 'sandbox', WA_SIM_PORT: String(simPort) },
      ['--embedded-gateway'],
      120_000, // PGlite boots slowly on a loaded machine
    );
    const org = 'org_console';
    adminKey = (await cliCreateApiKey({ DATA_DIR: dataDir }, org, 'manage,send', ['--admin']))
      .secret;
    memberKey = (await cliCreateApiKey({ DATA_DIR: dataDir }, org, 'manage,send')).secret;
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
    await context.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if (LOCAL_HOSTS.has(url.hostname)) return route.continue();
      external.push(url.href);
      return route.abort('blockedbyclient');
    });
    await realStarted;
  }, 240_000);

  afterAll(async () => {
    await context?.close();
    await api?.stop();
    await real?.stop();
    if (realDir) await rm(realDir, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
    await rm(profileDir, { recursive: true, force: true });
  });

  const openPage = async (viewport?: { width: number; height: number }): Promise<Page> => {
    const page = await context.newPage();
    if (viewport) await page.setViewportSize(viewport);
    page.on('console', (message) => {
      // An API refusal the page shows (a wrong key, a 404 after a delete) is not a script error.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
        consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    return page;
  };

  /** A screenshot for the artifacts, and no serious or critical accessibility violation. */
  const check = async (page: Page, name: string): Promise<void> => {
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    const results = await new AxeBuilder({ page }).analyze();
    const serious = results.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
    expect({ page: name, serious }).toEqual({ page: name, serious: [] });
  };

  const signIn = async (page: Page, token: string): Promise<void> => {
    await page.goto(`${api.baseUrl}/`);
    await page.getByLabel('API key or login token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sessions' }).waitFor();
  };

  const status = (page: Page) => page.locator('.facts [data-status]');
  const nav = (page: Page) => page.getByRole('navigation', { name: 'Main' });

  /** Waits for the session page's status; a timeout says what the page showed meanwhile. */
  const waitForStatus = async (page: Page, wanted: string, timeout = 15_000): Promise<void> => {
    try {
      await page.locator(`.facts [data-status="${wanted}"]`).waitFor({ timeout });
    } catch (error) {
      const shown = await page.locator('.facts, [role=alert], [role=status]').allTextContents();
      throw new Error(`status ${wanted} not shown: ${shown.join(' | ')}`, { cause: error });
    }
  };

  it('signs in, pairs a session through the sandbox phone, and runs its lifecycle live', async () => {
    const page = await openPage();
    await page.goto(`${api.baseUrl}/`);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await check(page, 'sign-in');

    // A wrong key is refused on the page.
    await page.getByLabel('API key or login token').fill('wagw_nope_nope');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/401/);

    await signIn(page, adminKey);
    await expect(nav(page).getByRole('link', { name: 'Gateways' }).count()).resolves.toBe(1);
    // The credential lives in this tab's sessionStorage, nowhere else.
    // (Expressions evaluated in the page, where the DOM globals are.)
    const storage = await page.evaluate(
      '({ session: Object.keys(sessionStorage), local: Object.keys(localStorage), cookies: document.cookie })',
    );
    expect(storage).toEqual({ session: ['wagw.console.token'], local: [], cookies: '' });
    await page.getByText('No sessions yet').waitFor();
    await check(page, 'sessions-empty');

    // Create, with QR pairing started at once: the session page shows the API's QR image.
    await page.getByLabel('Label').fill('Support line');
    await expect(page.getByLabel('Start pairing now').isChecked()).resolves.toBe(true);
    await page.getByRole('button', { name: 'Create session' }).click();
    await page.getByRole('heading', { level: 1, name: 'Support line' }).waitFor();
    const sessionId = /#\/sessions\/(\w+)$/.exec(page.url())?.[1];
    expect(sessionId).toMatch(/^[0-9A-Z]{26}$/);
    const qr = page.getByRole('img', { name: /QR code/ });
    await qr.waitFor();
    const image = await qr.evaluate((img: any) => ({
      complete: img.complete,
      width: img.naturalWidth,
      src: img.src.slice(0, 5),
      qr: img.dataset.qr,
    }));
    expect(image).toMatchObject({ complete: true, src: 'blob:' });
    expect(image.width).toBeGreaterThan(100);
    // The image is the code the API serves now.
    const served = await call(api.baseUrl, 'GET', `/api/v1/sessions/${sessionId}/qr`, {
      token: adminKey,
    });
    expect(served.body.qr).toBe(image.qr);
    await expect(status(page).getAttribute('data-status')).resolves.toMatch(
      /^(starting|scan_qr_code)$/,
    );
    await check(page, 'session-qr');

    // Play the phone: scan the QR on screen. The status turns `working` with no reload.
    await page.evaluate('window.marker = 1');
    await page.getByLabel('Simulated phone number').fill('6281234500001');
    await page.getByRole('button', { name: 'Scan the QR code' }).click();
    await waitForStatus(page, 'working');
    await expect(page.evaluate('window.marker')).resolves.toBe(1);
    await page.getByText('6281234500001', { exact: true }).first().waitFor();
    await expect(page.getByRole('img', { name: /QR code/ }).count()).resolves.toBe(0);
    await page.locator('[data-event-type="session.paired"]').first().waitFor();

    // A simulated contact writes to the paired number.
    await page.getByRole('button', { name: 'Send to 6281234500001' }).click();
    await page.getByText('Sent from 6598765432 to 6281234500001.').waitFor();

    // It reaches the session's chats live; the console answers from its composer.
    await page
      .getByRole('list', { name: 'Chats' })
      .getByRole('button', { name: /6598765432/ })
      .click();
    const chat = page.getByRole('list', { name: 'Messages with 6598765432' });
    await chat.getByText('Hello from a simulated phone').waitFor();
    await page.locator('#msg-text').fill('Hi from the console');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await chat.getByText('Hi from the console').waitFor();
    // The simulated phone received it (decrypted by the sim: Baileys really sent it).
    const inbox = await new WaSimControlClient(`http://127.0.0.1:${simPort}`).receivedMessages(
      '6598765432',
    );
    expect(inbox.map((m) => m.text)).toContain('Hi from the console');
    await check(page, 'session-working');

    // Settings are saved through PATCH.
    await page.getByLabel('Messages per minute').fill('30');
    await page.getByLabel('Mark incoming messages read').check();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Settings saved.').waitFor();
    const saved = await call(api.baseUrl, 'GET', `/api/v1/sessions/${sessionId}`, {
      token: adminKey,
    });
    expect(saved.body).toMatchObject({ ratePerMin: 30, autoRead: true, label: 'Support line' });

    // Stop, start: each status arrives live.
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await waitForStatus(page, 'stopped');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await waitForStatus(page, 'working');

    // The list shows it live too, from another page of the console.
    await nav(page).getByRole('link', { name: 'Sessions' }).click();
    const row = page.locator(`tr[data-session-id="${sessionId}"]`);
    await row.locator('[data-status="working"]').waitFor();
    await expect(row.textContent()).resolves.toContain('embedded');
    await check(page, 'sessions');
    await page.getByRole('link', { name: 'Support line' }).click();
    await waitForStatus(page, 'working');

    // Log out is destructive: a confirmation first, and Cancel does nothing.
    await page.getByRole('button', { name: 'Log out' }).click();
    const dialog = page.getByRole('dialog', { name: 'Log out this number?' });
    await dialog.waitFor();
    await check(page, 'confirm-logout');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    // Closed by the next render, not by the click itself: wait for it (an instant isVisible()
    // raced the render and failed a CI run), then check nothing else happened.
    await dialog.waitFor({ state: 'hidden', timeout: 5_000 });
    await expect(status(page).getAttribute('data-status')).resolves.toBe('working');
    await page.getByRole('button', { name: 'Log out' }).click();
    await dialog.getByRole('button', { name: 'Log out' }).click();
    await page.getByText('not paired').first().waitFor();
    await waitForStatus(page, 'stopped');

    // Delete, confirmed: back to the list, the session gone.
    await page.getByRole('button', { name: 'Delete' }).click();
    await page
      .getByRole('dialog', { name: 'Delete this session?' })
      .getByRole('button', { name: 'Delete' })
      .click();
    await page.getByRole('heading', { level: 1, name: 'Sessions' }).waitFor();
    await page.getByText('No sessions yet').waitFor();
    const gone = await call(api.baseUrl, 'GET', `/api/v1/sessions/${sessionId}`, {
      token: adminKey,
    });
    expect(gone.status).toBe(404);

    await nav(page).getByRole('link', { name: 'Events' }).click();
    await page.locator('[data-stream-state="open"]').waitFor();
    await page.locator('[data-event-type="session.status"]').first().waitFor();
    await check(page, 'events');
    await page.close();
  }, 180_000);

  it('pairs with a pairing code typed on the simulated phone', async () => {
    const page = await openPage();
    await signIn(page, adminKey);
    await page.getByLabel('Label').fill('Sales');
    await page.getByLabel('Start pairing now').uncheck();
    await page.getByRole('button', { name: 'Create session' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sales' }).waitFor();
    await expect(status(page).getAttribute('data-status')).resolves.toBe('stopped');
    await page.getByLabel('Phone number (digits with country code)').fill('6281234500002');
    await page.getByRole('button', { name: 'Get a pairing code' }).click();
    const code = await page.locator('[data-pairing-code]').getAttribute('data-pairing-code');
    expect(code).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    await check(page, 'session-pairing-code');
    await page.getByRole('button', { name: 'Enter the pairing code' }).click();
    await waitForStatus(page, 'working');
    await page.getByText('6281234500002', { exact: true }).first().waitFor();
    await page.close();
  }, 120_000);

  it('shows admins the gateways and drains one; hides the page from other keys', async () => {
    const page = await openPage();
    await signIn(page, adminKey);
    await nav(page).getByRole('link', { name: 'Gateways' }).click();
    const row = page.getByRole('row', { name: /embedded/ });
    await row.waitFor();
    await expect(row.textContent()).resolves.toMatch(/active/);
    await check(page, 'gateways');
    await row.getByRole('button', { name: /Drain/ }).click();
    await page
      .getByRole('dialog', { name: /Drain embedded/ })
      .getByRole('button', { name: 'Drain' })
      .click();
    await page.getByRole('row', { name: /embedded.*draining/ }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await expect(page.evaluate('sessionStorage.length')).resolves.toBe(0);
    await signIn(page, memberKey);
    await expect(nav(page).getByRole('link', { name: 'Gateways' }).count()).resolves.toBe(0);
    await page.close();
  }, 120_000);

  it('is usable on a 390 px phone screen', async () => {
    const page = await openPage({ width: 390, height: 844 });
    await signIn(page, memberKey);
    await page.locator('tr[data-session-id]').first().waitFor();
    const overflow = () =>
      page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    await expect(overflow()).resolves.toBeLessThanOrEqual(0);
    await check(page, 'mobile-sessions');
    await page.getByRole('link', { name: 'Sales' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sales' }).waitFor();
    await expect(overflow()).resolves.toBeLessThanOrEqual(0);
    await check(page, 'mobile-session');
    await page.close();
  }, 120_000);

  it('forwards only the sandbox actions, to a caller who may manage sessions', async () => {
    // A well-formed WhatsApp Web QR that no connection showed.
    const key = Buffer.alloc(32, 7).toString('base64');
    const body = {
      qr: `https://wa.me/settings/linked_devices#2@unknown,${key},${key},${key}`,
      phoneNumber: '6281234500003',
    };
    const anonymous = await call(api.baseUrl, 'POST', '/sandbox/v1/qr:scan', { body });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('unauthorized');
    const sendOnly = (await cliCreateApiKey({ DATA_DIR: dataDir }, 'org_console', 'send')).secret;
    const forbidden = await call(api.baseUrl, 'POST', '/sandbox/v1/qr:scan', {
      token: sendOnly,
      body,
    });
    expect(forbidden.status).toBe(403);
    // Forwarded: the simulator's own answer (an unknown QR is its 404).
    const unknownQr = await call(api.baseUrl, 'POST', '/sandbox/v1/qr:scan', {
      token: memberKey,
      body,
    });
    expect(unknownQr.status).toBe(404);
    expect(unknownQr.body.error.message).toMatch(/qr/i);
    // Only the three actions: the simulator's other control routes are not reachable.
    for (const path of ['/sandbox/v1/devices/6281234500001:ban', '/sandbox/v1/connections']) {
      const other = await call(api.baseUrl, 'POST', path, { token: memberKey, body: {} });
      expect({ path, status: other.status }).toEqual({ path, status: 404 });
    }
    const devices = await call(api.baseUrl, 'GET', '/sandbox/v1/devices', { token: memberKey });
    expect(devices.status).toBe(404);
  });

  it('shows no sandbox phone when npm start runs on the real WhatsApp network', async () => {
    // The same console, no phone panel, no sandbox tag: the API has no sandbox routes (404).
    const page = await openPage();
    await page.goto(`${real.baseUrl}/`);
    await page.getByLabel('API key or login token').fill(realKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sessions' }).waitFor();
    await page.getByLabel('Label').fill('Real phone');
    await page.getByLabel('Start pairing now').uncheck();
    await page.getByRole('button', { name: 'Create session' }).click();
    await page.getByRole('heading', { level: 1, name: 'Real phone' }).waitFor();
    // The pairing form is there; the simulated phone is not.
    await page.getByRole('button', { name: 'Get a pairing code' }).waitFor();
    await expect(page.locator('.sandbox').count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: 'Scan the QR code' }).count()).resolves.toBe(0);
    await expect(page.locator('header .tag', { hasText: 'sandbox' }).count()).resolves.toBe(0);
    await check(page, 'session-real-network');
    await page.close();
  });

  it('sent no request off this machine and logged no script error', () => {
    expect(external).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
