/**
 * The pages mailed links open by default (PUBLIC_URL is the service itself), in Debian's
 * Chromium through playwright-core: the confirmation link confirms the address, and the reset
 * link's form sets a new password that then logs in. The HTTP half checks the headers that keep
 * the token to the page (no referrer, no caching, a CSP) and that the token is not in the HTML.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { CaptureTransport, type OutgoingMail } from '../src/modules/mail/mailer.ts';
import { GOOD_PASSWORD, LOGIN, startTestServer, uniqueIdentifier, type TestServer } from './helpers/server.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SIGNUP = `mutation($identifier: String!, $password: String!, $email: EmailAddress) {
  signup(input: { identifier: $identifier, password: $password, profiles: { mail: { email: $email } } }) { token user { id } }
}`;
const NEW_PASSWORD = 'a brand new passphrase 77';

/** The mailed link's path and query (`/reset-password?token=…`), to open on the test server. */
function linkPath(mail: OutgoingMail, page: string): string {
  const match = new RegExp(`https?://[^\\s"<>]+(/${page}\\?token=[A-Za-z0-9_%-]+)`).exec(mail.text);
  if (!match) throw new Error(`no ${page} link in ${mail.text}`);
  return match[1]!;
}

describe('account pages: the confirmation and reset links work as mailed', () => {
  let server: TestServer;
  let browser: Browser | undefined;
  const mail = new CaptureTransport();

  beforeAll(async () => {
    server = await startTestServer({ TRUST_PROXY: 'true' }, { mailTransport: mail });
    if (existsSync(CHROMIUM)) {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    }
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  }, 30_000);

  /** Signs up from a client address of its own (the signup throttle is per address). */
  async function signupWithEmail() {
    const identifier = uniqueIdentifier('pages');
    const email = `${identifier}@example.com`;
    const from = { 'x-forwarded-for': `192.0.2.${Math.floor(Math.random() * 250) + 1}` };
    const res = await server.gql(SIGNUP, { identifier, password: GOOD_PASSWORD, email }, undefined, from);
    if (!res.body.data?.signup) throw new Error(res.text);
    return { identifier, email, token: res.body.data.signup.token as string };
  }

  it('serves both pages without the token in the HTML, with no-referrer, no-store and a CSP', async () => {
    for (const path of ['/confirm-email', '/reset-password']) {
      const res = await fetch(`${server.url}${path}?token=secret-token-value`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('content-security-policy')).toContain("connect-src 'self'");
      expect(await res.text()).not.toContain('secret-token-value');
    }
  });

  it('the confirmation link confirms the address in a browser', async () => {
    if (!browser) throw new Error(`Chromium not found at ${CHROMIUM}: run scripts/ensure-chromium.sh`);
    const user = await signupWithEmail();
    const confirmation = await mail.waitFor((m) => m.to === user.email && m.template === 'confirmEmail');
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${server.url}${linkPath(confirmation, 'confirm-email')}`);
      await expect.poll(() => page.locator('#status').innerText(), { timeout: 15_000 }).toMatch(/is confirmed/);
      expect(page.url()).not.toContain('token=');
    } finally {
      await context.close();
    }
    const me = await server.gql('{ me { mail { emailConfirmedAt } } }', {}, user.token);
    expect(me.body.data.me.mail.emailConfirmedAt).toBeTruthy();
  }, 60_000);

  it('the reset link opens a form that sets a new password, which then logs in', async () => {
    if (!browser) throw new Error(`Chromium not found at ${CHROMIUM}: run scripts/ensure-chromium.sh`);
    const user = await signupWithEmail();
    const requested = await server.gql('mutation($i: String!) { requestPasswordReset(identifier: $i) }', { i: user.identifier });
    expect(requested.body.data.requestPasswordReset).toBe(true);
    const reset = await mail.waitFor((m) => m.to === user.email && m.template === 'passwordReset');
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${server.url}${linkPath(reset, 'reset-password')}`);
      // Two different passwords are refused in the page, and nothing is sent.
      await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
      await page.getByLabel('New password, again').fill(`${NEW_PASSWORD}x`);
      await page.getByRole('button', { name: 'Set the new password' }).click();
      await expect.poll(() => page.locator('#status').innerText()).toBe('The two passwords differ.');
      // A weak password: the API's own error message is shown.
      await page.getByLabel('New password', { exact: true }).fill('short');
      await page.getByLabel('New password, again').fill('short');
      await page.getByRole('button', { name: 'Set the new password' }).click();
      await expect.poll(() => page.locator('#status').innerText(), { timeout: 15_000 }).toMatch(/password/i);
      expect(await page.locator('#status').innerText()).not.toMatch(/changed/);

      await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
      await page.getByLabel('New password, again').fill(NEW_PASSWORD);
      await page.getByRole('button', { name: 'Set the new password' }).click();
      await expect.poll(() => page.locator('#status').innerText(), { timeout: 15_000 }).toMatch(/password is changed/);
    } finally {
      await context.close();
    }
    const login = await server.gql(LOGIN, { identifier: user.identifier, password: NEW_PASSWORD }, undefined, { 'x-forwarded-for': '192.0.2.254' });
    expect(login.body.errors).toBeUndefined();
    expect(login.body.data.login.token).toBeTruthy();
    const old = await server.gql('{ me { id } }', {}, user.token);
    expect(old.body.data.me).toBeNull();
  }, 60_000);
});
