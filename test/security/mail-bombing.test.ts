import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { signupWithEmail, startTestServer, type TestServer } from '../helpers/server.ts';

/**
 * Issue 10, finding 5: token mails cannot be used to bomb a mailbox, and the default `outbox`
 * transport neither keeps links past their tokens' expiry nor runs in production unasked.
 * Runs on the default outbox transport, as the finding did.
 */

const REQUEST_RESET = 'mutation($i: String!) { requestPasswordReset(identifier: $i) }';
const RESEND = 'mutation { resendEmailConfirmation }';

/** Waits for background work (token issue, mail) started by the requests so far. */
async function settle(server: TestServer): Promise<void> {
  await server.app.services.background.drain();
  await server.app.services.mailer.drain();
}

async function rows<T>(server: TestServer, sql: string, params: unknown[] = []): Promise<T[]> {
  return server.db.orm.em.fork().execute<T[]>(sql, params);
}

async function outbox(server: TestServer, recipient: string, template: string) {
  return rows<{ id: string; text_body: string; expires_at: Date | string }>(
    server,
    'select id, text_body, expires_at from mail_outbox where recipient = ? and template = ? order by id',
    [recipient, template],
  );
}

function tokenIn(text: string): string {
  const match = /token=([A-Za-z0-9_-]{43})/.exec(text);
  if (!match) throw new Error(`no token in ${text}`);
  return match[1]!;
}

/** The `warn` lines of the mail quota about `userId` and `template`. */
function quotaWarnings(warn: { mock: { calls: unknown[][] } }, userId: string, template: string): unknown[][] {
  return warn.mock.calls.filter(([fields, message]) => {
    const f = fields as { template?: string; userId?: string };
    return message === 'mail quota reached: not sent' && f.template === template && f.userId === userId;
  });
}

describe('token mail quotas', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers 8 concurrent reset requests with true and mails 3 links; the rest are logged without a token', async () => {
    const warn = vi.spyOn(server.logger, 'warn');
    try {
      const user = await signupWithEmail(server, 'bombed');
      const answers = await Promise.all(Array.from({ length: 8 }, () => server.gql(REQUEST_RESET, { i: user.identifier })));
      expect(answers.map((a) => a.body)).toEqual(Array.from({ length: 8 }, () => ({ data: { requestPasswordReset: true } })));
      await settle(server);

      const mails = await outbox(server, user.email, 'passwordReset');
      expect(mails).toHaveLength(3);
      expect(quotaWarnings(warn, user.id, 'passwordReset')).toHaveLength(5);
      const logged = JSON.stringify(warn.mock.calls);
      for (const mail of mails) expect(logged).not.toContain(tokenIn(mail.text_body));

      // The quota is hourly: its counter lives for one hour from the first mail.
      const [limit] = await rows<{ points: number; expire: string }>(server, 'select points, expire from login_rate_limits where key = ?', [
        `mail-reset:${user.id}`,
      ]);
      expect(limit!.points).toBe(8);
      const left = Number(limit!.expire) - Date.now();
      expect(left).toBeGreaterThan(3500_000);
      expect(left).toBeLessThanOrEqual(3600_000);
    } finally {
      warn.mockRestore();
    }
  });

  it('mails 3 confirmations per address per hour; the 4th request answers true and is logged', async () => {
    const warn = vi.spyOn(server.logger, 'warn');
    try {
      const user = await signupWithEmail(server, 'confirmbomb'); // mail 1
      for (let resend = 1; resend <= 4; resend++) {
        expect((await server.gql(RESEND, {}, user.token)).body).toEqual({ data: { resendEmailConfirmation: true } });
        await settle(server);
        const sent = (await outbox(server, user.email, 'confirmEmail')).length;
        const refused = quotaWarnings(warn, user.id, 'confirmEmail').length;
        // Signup and two resends are mailed; the third resend (the 4th mail) and later are refused.
        expect({ sent, refused }).toEqual(resend <= 2 ? { sent: resend + 1, refused: 0 } : { sent: 3, refused: resend - 2 });
      }
      const mails = await outbox(server, user.email, 'confirmEmail');
      const logged = JSON.stringify(warn.mock.calls);
      for (const mail of mails) expect(logged).not.toContain(tokenIn(mail.text_body));
      expect(logged).not.toContain(user.email);
    } finally {
      warn.mockRestore();
    }
  });

  it('keeps an outbox row until its token expires and prunes it after', async () => {
    const first = await signupWithEmail(server, 'prune1');
    await server.gql(REQUEST_RESET, { i: first.identifier });
    await settle(server);
    const [stored] = await outbox(server, first.email, 'passwordReset');
    const [token] = await rows<{ expires_at: Date | string }>(server, `select expires_at from user_tokens where user_id = ? and purpose = 'PASSWORD_RESET'`, [
      first.id,
    ]);
    expect(new Date(stored!.expires_at).getTime()).toBe(new Date(token!.expires_at).getTime());

    // Let the row's hour pass; the next delivery deletes it.
    await rows(server, `update mail_outbox set expires_at = now() - interval '1 second' where id = ?`, [stored!.id]);
    const second = await signupWithEmail(server, 'prune2');
    await server.gql(REQUEST_RESET, { i: second.identifier });
    await settle(server);
    expect(await rows(server, 'select 1 from mail_outbox where id = ?', [stored!.id])).toEqual([]);
    expect(await outbox(server, second.email, 'passwordReset')).toHaveLength(1);
    expect(await rows(server, 'select 1 from mail_outbox where expires_at <= now()')).toEqual([]);
  });
});

describe('the outbox in production', () => {
  const production = { NODE_ENV: 'production', DATABASE_URL: 'postgres://u@db:5432/app', SECRETS_KEY: 'd4'.repeat(32) };

  function issues(env: Record<string, string>): string {
    try {
      loadConfig(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).issues.join('\n');
    }
    throw new Error('loadConfig accepted the configuration');
  }

  it('is refused unless allowed, and the error says what to set', () => {
    const unset = issues(production);
    for (const text of ['MAIL_TRANSPORT', 'MAIL_TRANSPORT=smtp', 'SMTP_URL', 'MAIL_OUTBOX_IN_PRODUCTION=true']) expect(unset).toContain(text);
    expect(issues({ ...production, MAIL_TRANSPORT: 'outbox' })).toContain('MAIL_OUTBOX_IN_PRODUCTION=true');
    expect(issues({ ...production, MAIL_OUTBOX_IN_PRODUCTION: 'false' })).toContain('MAIL_OUTBOX_IN_PRODUCTION');

    expect(loadConfig({ ...production, MAIL_OUTBOX_IN_PRODUCTION: 'true' }).mail).toMatchObject({ transport: 'outbox', outboxInProduction: true });
    expect(loadConfig({ ...production, MAIL_TRANSPORT: 'smtp', SMTP_URL: 'smtp://mail.example:587' }).mail.transport).toBe('smtp');
    expect(loadConfig({ NODE_ENV: 'development' }).mail.transport).toBe('outbox');
  });

  it('stops the process at start', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', PORT: '0', DATABASE_URL: 'postgres://u@127.0.0.1:1/none' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(stderr).toContain('Invalid configuration');
    expect(stderr).toContain('MAIL_OUTBOX_IN_PRODUCTION');
  }, 60_000);
});
