import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerEnvelope } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signupWithEmail, startTestServer, type TestServer } from '../helpers/server.ts';

/**
 * The SMTP transport (nodemailer) against a real SMTP server on 127.0.0.1 started here with
 * `smtp-server`: plain (TLS-less) local delivery of a reset mail, and a refused connection,
 * which is logged once, not retried, and never fails the mutation.
 */

const REQUEST_RESET = 'mutation($i: String!) { requestPasswordReset(identifier: $i) }';
const RESET = 'mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }';
const FROM = 'Accounts <accounts@example.test>';

interface Received {
  mail: ParsedMail;
  envelope: SMTPServerEnvelope;
  secure: boolean;
}

/** An SMTP server on an ephemeral loopback port, without STARTTLS or AUTH, keeping what it receives. */
async function startSmtp(): Promise<{ server: SMTPServer; port: number; received: Received[]; stop(): Promise<void> }> {
  const received: Received[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (mail) => {
          received.push({ mail, envelope: session.envelope, secure: session.secure });
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= new Promise<void>((resolve) => server.close(() => resolve())));
  return { server, port: (server.server.address() as AddressInfo).port, received, stop };
}

async function settle(server: TestServer): Promise<void> {
  await server.app.services.background.drain();
  await server.app.services.mailer.drain();
}

describe('SMTP transport', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let server: TestServer;
  beforeAll(async () => {
    smtp = await startSmtp();
    server = await startTestServer({
      MAIL_TRANSPORT: 'smtp',
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      MAIL_FROM: FROM,
      PUBLIC_URL: 'https://app.example.test',
    });
  });
  afterAll(async () => {
    await server?.close();
    await smtp?.stop();
  });

  it('delivers a reset mail without TLS on 127.0.0.1, with the link, From, To and Subject', async () => {
    const user = await signupWithEmail(server, 'smtp');
    await settle(server);
    smtp.received.length = 0; // the signup's confirmation mail
    expect((await server.gql(REQUEST_RESET, { i: user.identifier })).body).toEqual({ data: { requestPasswordReset: true } });
    await settle(server);

    expect(smtp.received).toHaveLength(1);
    const [{ mail, envelope, secure }] = smtp.received as [Received];
    expect(secure).toBe(false);
    expect(envelope.mailFrom).toMatchObject({ address: 'accounts@example.test' });
    expect(envelope.rcptTo.map((r) => r.address)).toEqual([user.email]);
    expect(mail.from?.value).toEqual([{ name: 'Accounts', address: 'accounts@example.test' }]);
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value.map((a) => a.address) : []).toEqual([user.email]);
    expect(mail.subject).toBe('Reset your password');
    const link = /https:\/\/app\.example\.test\/reset-password\?token=([A-Za-z0-9_-]{43})/.exec(mail.text ?? '');
    expect(link).not.toBeNull();
    expect(mail.html).toContain(link![0]);

    // The mailed link is live: its token resets the password once.
    const reset = await server.gql(RESET, { t: link![1], p: 'violet tractor hums beneath nine lanterns' });
    expect(reset.body).toEqual({ data: { resetPassword: true } });
  });

  it('logs a refused connection once, without retrying, and still answers true', async () => {
    const user = await signupWithEmail(server, 'smtpdown');
    await settle(server);
    await smtp.stop();
    const error = vi.spyOn(server.logger, 'error');
    try {
      const res = await server.gql(REQUEST_RESET, { i: user.identifier });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ data: { requestPasswordReset: true } });
      await settle(server);

      const failures = error.mock.calls.filter(([, message]) => message === 'mail delivery failed');
      expect(failures).toHaveLength(1);
      const [fields] = failures[0] as [{ template: string; err: Error }];
      expect(fields.template).toBe('passwordReset');
      expect(fields.err.message).toMatch(/ECONNREFUSED/);
      // Nothing is left to deliver: no retry is pending.
      expect(server.app.services.mailer.pending).toBe(0);
      expect((await server.gql('{ __typename }')).status).toBe(200);
    } finally {
      error.mockRestore();
    }
  });
});
