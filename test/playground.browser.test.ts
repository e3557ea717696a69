/**
 * End-to-end check of both self-hosted IDEs in a real Chromium (Debian's `chromium`, driven by
 * playwright-core): GraphQL Playground on `/graphql` and Ruru (GraphiQL 5) on `/graphiql`. In
 * each, the page and everything it loads come from the service itself (no CDN, no Google
 * Fonts); a `signup` mutation typed into the UI creates an account, and a `me` query typed into
 * the UI with an `Authorization` header typed into its headers pane returns that account.
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

const PASSWORD = 'correct horse battery staple 42';

/** The signup mutation typed into an IDE: returns the session token and the new user. */
function signupMutation(identifier: string): string {
  return `mutation Signup { signup(input: { identifier: "${identifier}", password: "${PASSWORD}" }) { token user { id identifier } } }`;
}

/** The session token in a rendered JSON result (`"token": "…"`). */
function tokenIn(result: string): string {
  const match = result.match(/"token":\s*"([^"]+)"/);
  if (!match) throw new Error(`no token in the result pane: ${result}`);
  return match[1]!;
}

/** Requests of a page whose URL is not http(s) on a loopback host. */
function offsite(requested: string[]): string[] {
  return requested.filter((url) => {
    const u = new URL(url);
    return !(/^https?:$/.test(u.protocol) && LOCAL_HOSTS.has(u.hostname));
  });
}

/**
 * A browser context whose requests come from a client address of their own (`x-forwarded-for`
 * from the documentation range 198.51.100.0/24, honoured with TRUST_PROXY), so the per-address
 * signup throttle is not shared with other test files on the same database.
 */
async function newContext(browser: Browser | undefined) {
  return requireBrowser(browser).newContext({ extraHTTPHeaders: { 'x-forwarded-for': `198.51.100.${Math.floor(Math.random() * 250) + 1}` } });
}

/** A page in a fresh {@link newContext}, recording every URL it requests and every uncaught page error. */
async function openPage(browser: Browser | undefined) {
  const context = await newContext(browser);
  const page = await context.newPage();
  const requested: string[] = [];
  page.on('request', (request) => requested.push(request.url()));
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  return { context, page, requested, pageErrors };
}

function requireBrowser(browser: Browser | undefined): Browser {
  if (!browser) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: run scripts/ensure-chromium.sh (installs Debian's "chromium") ` + 'or set CHROMIUM_PATH to a Chromium/Chrome binary.',
    );
  }
  return browser;
}

describe('IDEs in a browser: GraphQL Playground and Ruru', () => {
  let server: TestServer | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    server = await startTestServer({ PLAYGROUND: 'true', GRAPHIQL: 'true', TRUST_PROXY: 'true' });
    // A missing binary is reported as a failure by the test itself (never a skip).
    if (existsSync(CHROMIUM)) browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  }, 30_000);

  it('Playground: loads only same-origin assets; signup, then `me` with a header, typed into the UI', async () => {
    const srv = server!;
    const identifier = `playground-${randomUUID().slice(0, 8)}`;
    const { context, page, requested, pageErrors } = await openPage(browser);

    try {
      const response = await page.goto(`${srv.url}/graphql`);
      expect(response?.status()).toBe(200);
      expect(response?.headers()['content-type']).toMatch(/^text\/html/);

      // Query editor: the first editor after the top bar's COPY CURL button.
      await page.getByText('# Write your query or mutation here').waitFor({ timeout: 30_000 });
      const queryEditor = editorAfter(page.getByRole('button', { name: 'Copy CURL' }));
      const execute = page.locator('[title="Execute Query (Ctrl-Enter)"]');
      const resultPane = editorAfter(execute);

      await replaceEditorText(page, queryEditor, signupMutation(identifier));
      await execute.click();
      await expect.poll(() => editorText(resultPane), { timeout: 15_000 }).toContain(`"identifier": "${identifier}"`);
      const token = tokenIn(await editorText(resultPane));
      const user = await findUser(srv, identifier);

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
      const graphqlResponse = page.waitForResponse((r) => r.request().method() === 'POST' && (r.request().postData() ?? '').includes('identifier'));
      await execute.click();
      const sent = await graphqlResponse;
      expect((await sent.request().allHeaders())['authorization']).toBe(`Bearer ${token}`);

      await expect.poll(() => editorText(resultPane), { timeout: 15_000 }).toContain(`"me": {`);
      const result = await editorText(resultPane);
      expect(result).toContain(`"identifier": "${identifier}"`);
      expect(result).toContain(`"id": "${user.id}"`);
      expect(result).not.toContain('"errors"');
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }

    // Every request the page made (document, JS, CSS, favicon, introspection, query) stayed local.
    expect(requested.length).toBeGreaterThanOrEqual(5);
    expect(offsite(requested), 'off-site requests').toEqual([]);
  }, 90_000);

  it('Ruru (GraphiQL) at /graphiql: loads only same-origin assets; signup, then `me` with a header, typed into the UI', async () => {
    const srv = server!;
    const identifier = `ruru-${randomUUID().slice(0, 8)}`;
    const { context, page, requested, pageErrors } = await openPage(browser);

    /** Replace the whole text of a Monaco editor through the keyboard. */
    const replaceMonacoText = async (editor: Locator, text: string) => {
      await editor.click();
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.press('Backspace');
      await page.keyboard.insertText(text);
    };

    try {
      const response = await page.goto(`${srv.url}/graphiql`);
      expect(response?.status()).toBe(200);
      expect(response?.headers()['content-type']).toMatch(/^text\/html/);

      const queryEditor = page.locator('section.graphiql-query-editor .monaco-editor');
      await queryEditor.waitFor({ timeout: 30_000 });
      const execute = page.getByRole('button', { name: /^Execute query/ });
      const resultLines = page.locator('section.result-window .view-lines');
      // Monaco renders spaces as U+00A0.
      const resultText = async () => (await resultLines.innerText()).replace(/\u00a0/g, ' ');

      await replaceMonacoText(queryEditor, signupMutation(identifier));
      await execute.click();
      await expect.poll(resultText, { timeout: 15_000 }).toContain(`"identifier": "${identifier}"`);
      const token = tokenIn(await resultText());
      const user = await findUser(srv, identifier);

      await replaceMonacoText(queryEditor, 'query Me { me { id identifier } }');
      await page.getByRole('button', { name: 'Headers', exact: true }).click();
      const headersEditor = page.locator('section.graphiql-editor-tool .monaco-editor:visible');
      await headersEditor.waitFor({ state: 'visible' });
      await replaceMonacoText(headersEditor, JSON.stringify({ Authorization: `Bearer ${token}` }));

      const graphqlResponse = page.waitForResponse((r) => r.request().method() === 'POST' && (r.request().postData() ?? '').includes('query Me'));
      await execute.click();
      const sent = await graphqlResponse;
      expect((await sent.request().allHeaders())['authorization']).toBe(`Bearer ${token}`);

      await expect.poll(resultText, { timeout: 15_000 }).toContain(`"me": {`);
      const result = await resultText();
      expect(result).toContain(`"identifier": "${identifier}"`);
      expect(result).toContain(`"id": "${user.id}"`);
      expect(result).not.toContain('"errors"');
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }

    expect(requested.length).toBeGreaterThanOrEqual(3);
    expect(offsite(requested), 'off-site requests').toEqual([]);
  }, 90_000);
});

/** The user the IDE just signed up, read back through the API (so the test knows its id). */
async function findUser(srv: TestServer, identifier: string): Promise<{ id: string }> {
  const found = await srv.gql<{ users: { edges: { node: { id: string; identifier: string } }[] } }>(
    'query ($id: String!) { users(where: { identifier: { eq: $id } }) { edges { node { id identifier } } } }',
    { id: identifier },
  );
  const user = found.body.data?.users.edges[0]?.node;
  if (!user) throw new Error(`${identifier} was not created: ${JSON.stringify(found.body)}`);
  return user;
}
