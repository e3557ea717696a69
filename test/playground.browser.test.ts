/**
 * End-to-end check of the self-hosted GraphQL Playground in a real Chromium (Debian's
 * `chromium`, driven by playwright-core): the page and everything it loads come from the
 * service itself (no CDN, no Google Fonts), and a `me` query typed into the UI with an
 * `Authorization` header typed into the HTTP HEADERS pane returns the signed-up account.
 * A missing Chromium FAILS the suite (CI installs it with scripts/ensure-chromium.sh).
 */
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import type { Browser, Locator, Page } from 'playwright-core';
import { startTestServer } from './helpers/server.ts';
import type { TestServer } from './helpers/server.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
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

/** The CodeMirror editor whose root element is the first one after `anchor` in document order. */
function editorAfter(anchor: Locator): Locator {
  return anchor.locator('xpath=following::div[contains(concat(" ", @class, " "), " CodeMirror ")][1]');
}

/** Focus a CodeMirror editor, replace its whole content with `text` through the keyboard. */
async function replaceEditorText(page: Page, editor: Locator, text: string): Promise<void> {
  await editor.locator('.CodeMirror-lines').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Backspace');
  // insertText feeds CodeMirror's hidden textarea like an IME would: no auto-closed brackets
  // or autocomplete pop-ups mangling the text, unlike per-key typing.
  await page.keyboard.insertText(text);
}

/** Plain text of a CodeMirror editor as rendered (lines joined with \n). */
async function editorText(editor: Locator): Promise<string> {
  return (await editor.locator('.CodeMirror-line').allInnerTexts()).join('\n').replace(/\u200b/g, '');
}

describe('GraphQL Playground (browser)', () => {
  let server: TestServer | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    server = await startTestServer({ PLAYGROUND: 'true' });
    // A missing binary is reported as a failure by the test itself (never a skip).
    if (existsSync(CHROMIUM)) browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  }, 30_000);

  it('loads only same-origin assets and runs an authenticated `me` query typed into the UI', async () => {
    if (!browser) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}: run scripts/ensure-chromium.sh (installs Debian's "chromium") ` +
          'or set CHROMIUM_PATH to a Chromium/Chrome binary.',
      );
    }
    const srv = server!;
    const identifier = `playground-${randomUUID().slice(0, 8)}`;
    const signup = await srv.gql<{ signup: { token: string; user: { id: string; identifier: string } } }>(
      'mutation ($input: SignupInput!) { signup(input: $input) { token user { id identifier } } }',
      { input: { identifier, password: 'correct horse battery staple 42' } },
    );
    expect(signup.body.errors).toBeUndefined();
    const { token, user } = signup.body.data!.signup;

    const context = await browser.newContext();
    const page = await context.newPage();
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));

    try {
      const response = await page.goto(`${srv.url}/graphql`);
      expect(response?.status()).toBe(200);
      expect(response?.headers()['content-type']).toMatch(/^text\/html/);

      // Query editor: the first editor after the top bar's COPY CURL button.
      await page.getByText('# Write your query or mutation here').waitFor({ timeout: 30_000 });
      const queryEditor = editorAfter(page.getByRole('button', { name: 'Copy CURL' }));
      await replaceEditorText(page, queryEditor, 'query Me { me { id identifier } }');
      expect(await editorText(queryEditor)).toContain('me { id identifier }');

      // HTTP HEADERS drawer (collapsed at the bottom); its editor follows the tab titles.
      // (Its title becomes "HTTP Headers (1)" once a header is set, hence the regex.)
      const headersTab = page.getByText(/^\s*HTTP Headers\b/);
      await headersTab.click();
      const headersEditor = editorAfter(headersTab);
      await headersEditor.waitFor({ state: 'visible' });
      await replaceEditorText(page, headersEditor, JSON.stringify({ Authorization: `Bearer ${token}` }));
      expect(await editorText(headersEditor)).toContain(`Bearer ${token}`);

      // Run it, then read the response pane (the editor right after the execute button).
      const execute = page.locator('[title="Execute Query (Ctrl-Enter)"]');
      const graphqlResponse = page.waitForResponse((r) => r.request().method() === 'POST' && (r.request().postData() ?? '').includes('identifier'));
      await execute.click();
      const sent = await graphqlResponse;
      expect((await sent.request().allHeaders())['authorization']).toBe(`Bearer ${token}`);

      const resultPane = editorAfter(execute);
      await expect.poll(() => editorText(resultPane), { timeout: 15_000 }).toContain(`"identifier": "${identifier}"`);
      const result = await editorText(resultPane);
      expect(result).toContain(`"id": "${user.id}"`);
      expect(result).not.toContain('"errors"');
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }

    // Every request the page made (document, JS, CSS, favicon, introspection, query) stayed local.
    expect(requested.length).toBeGreaterThanOrEqual(5);
    const offsite = requested.filter((url) => {
      const u = new URL(url);
      return !(/^https?:$/.test(u.protocol) && LOCAL_HOSTS.has(u.hostname));
    });
    expect(offsite, `off-site requests: ${offsite.join(', ')}`).toEqual([]);
  }, 90_000);
});
