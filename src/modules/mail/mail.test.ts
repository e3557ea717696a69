import type { EntityManager } from '@mikro-orm/postgresql';
import nodemailer from 'nodemailer';
import { pino, type Logger } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { MailOutboxMessage } from './mail.entity.ts';
import { CaptureTransport, Mailer, OutboxTransport, SmtpTransport, createMailTransport, type MailTransport, type OutgoingMail } from './mailer.ts';
import { confirmEmail, emailChanged, passwordChanged, passwordReset, render } from './templates.ts';

/** A pino logger writing JSON lines into an array, so tests can read what was logged. */
function memoryLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

const expiresAt = new Date('2030-01-02T03:04:05Z');
const hostile = '<script>alert("x")</script>&\'';
const sample = { subject: 'Subject', text: 'text body', html: '<p>html body</p>' };

describe('templates', () => {
  it('escape every interpolated value in the HTML and keep it verbatim in the text', () => {
    const rendered = [
      confirmEmail({ identifier: hostile, link: 'https://app.example/confirm?t=a&b=<c>', token: 'tok"<>', expiresAt }),
      passwordReset({ identifier: hostile, link: 'https://app.example/reset', token: 'tok', expiresAt }),
      emailChanged({ identifier: hostile, newAddress: 'new<b>@example.com' }),
      passwordChanged({ identifier: hostile }),
    ];
    for (const mail of rendered) {
      expect(mail.html).not.toContain('<script>');
      expect(mail.html).not.toContain('<b>');
      expect(mail.html).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#38;&#39;');
      expect(mail.text).toContain(hostile);
      expect(mail.subject).not.toContain('<');
    }
    expect(rendered[0]!.html).toContain('<a href="https://app.example/confirm?t=a&#38;b=&#60;c&#62;">');
    expect(rendered[0]!.html).toContain('<code>tok&#34;&#60;&#62;</code>');
  });

  it('put the link, the raw token and the expiry in both versions of the token mails', () => {
    for (const render of [confirmEmail, passwordReset]) {
      const mail = render({ identifier: 'ada', link: 'https://app.example/x?token=T0K3N', token: 'T0K3N', expiresAt });
      for (const body of [mail.text, mail.html]) {
        expect(body).toContain('https://app.example/x?token=T0K3N');
        expect(body).toContain('T0K3N');
        expect(body).toContain('2030-01-02 03:04 UTC');
        expect(body).toContain('ada');
      }
      // The token also stands alone on its own line for API clients.
      expect(mail.text.split('\n')).toContain('T0K3N');
    }
    expect(confirmEmail({ identifier: 'a', link: 'l', token: 't', expiresAt }).subject).toBe('Confirm your email address');
    expect(passwordReset({ identifier: 'a', link: 'l', token: 't', expiresAt }).subject).toBe('Reset your password');
  });

  it('do not turn a non-http link into an anchor', () => {
    const mail = confirmEmail({ identifier: 'a', link: 'javascript:alert(1)', token: 't', expiresAt });
    expect(mail.html).not.toContain('<a ');
    expect(mail.html).toContain('javascript:alert(1)');
  });

  it('tell the old address which address the account moved to', () => {
    const mail = emailChanged({ identifier: 'ada', newAddress: 'ada@new.example' });
    expect(mail.subject).toBe('Your email address was changed');
    expect(mail.text).toContain('ada@new.example');
    expect(mail.html).toContain('ada@new.example');
  });

  it('render() dispatches on the template name', () => {
    expect(render({ name: 'passwordChanged', data: { identifier: 'ada' } })).toEqual(passwordChanged({ identifier: 'ada' }));
    const data = { identifier: 'ada', link: 'https://x.example', token: 't', expiresAt };
    expect(render({ name: 'passwordReset', data })).toEqual(passwordReset(data));
  });
});

describe('Mailer', () => {
  it('returns before delivering and delivers on a later turn', async () => {
    const capture = new CaptureTransport();
    const mailer = new Mailer(capture, { from: 'x@example.com', logger: memoryLogger().logger });
    mailer.send('ada@example.com', sample, 'confirmEmail');
    expect(capture.messages).toHaveLength(0);
    expect(mailer.pending).toBe(1);
    await mailer.drain();
    expect(mailer.pending).toBe(0);
    expect(capture.messages).toEqual([{ to: 'ada@example.com', template: 'confirmEmail', subject: 'Subject', text: 'text body', html: '<p>html body</p>' }]);
  });

  it('never throws when the transport rejects or throws, and logs the error with the template', async () => {
    const { logger, lines } = memoryLogger();
    const failing: MailTransport = {
      deliver: vi.fn(async () => {
        throw new Error('relay refused');
      }),
    };
    const throwing: MailTransport = {
      deliver: vi.fn(() => {
        throw new Error('sync failure');
      }),
    };
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      for (const transport of [failing, throwing]) {
        const mailer = new Mailer(transport, { from: 'x@example.com', logger });
        expect(() => mailer.send('ada@example.com', sample, 'passwordReset')).not.toThrow();
        await mailer.drain();
      }
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('unhandledRejection', unhandled);
    }
    expect(unhandled).not.toHaveBeenCalled();
    const errors = lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({ template: 'passwordReset', err: { message: 'relay refused' } });
    expect(errors[1]).toMatchObject({ template: 'passwordReset', err: { message: 'sync failure' } });
    expect(JSON.stringify(lines)).not.toContain('text body');
  });

  it('drain() waits for slow deliveries, including ones scheduled while draining', async () => {
    const delivered: string[] = [];
    // eslint-disable-next-line prefer-const -- the transport below refers to it before it is built
    let mailer: Mailer;
    const slow: MailTransport = {
      async deliver(mail) {
        await new Promise((resolve) => setTimeout(resolve, 30));
        delivered.push(mail.to);
        if (mail.to === 'first@example.com') mailer.send('second@example.com', sample, 'chained');
      },
    };
    mailer = new Mailer(slow, { from: 'x@example.com', logger: memoryLogger().logger });
    mailer.send('first@example.com', sample, 'first');
    await mailer.drain();
    expect(delivered).toEqual(['first@example.com', 'second@example.com']);
    await mailer.drain(); // nothing pending: resolves at once
  });

  it('close() drains, then closes the transport', async () => {
    const order: string[] = [];
    const transport: MailTransport = {
      async deliver() {
        order.push('deliver');
      },
      close: () => void order.push('close'),
    };
    const mailer = new Mailer(transport, { from: 'x@example.com', logger: memoryLogger().logger });
    mailer.send('ada@example.com', sample, 't');
    await mailer.close();
    expect(order).toEqual(['deliver', 'close']);
  });
});

describe('CaptureTransport.waitFor', () => {
  const mail = (to: string): OutgoingMail => ({ to, template: 't', subject: 's', text: 'x', html: 'x' });

  it('resolves with an already captured message, or with the next matching one', async () => {
    const capture = new CaptureTransport();
    await capture.deliver(mail('a@example.com'));
    await expect(capture.waitFor((m) => m.to === 'a@example.com', 10)).resolves.toMatchObject({ to: 'a@example.com' });

    const waiting = capture.waitFor((m) => m.to === 'c@example.com', 1000);
    await capture.deliver(mail('b@example.com'));
    setTimeout(() => void capture.deliver(mail('c@example.com')), 20);
    await expect(waiting).resolves.toMatchObject({ to: 'c@example.com' });
  });

  it('rejects after the timeout without a match, and when the predicate throws', async () => {
    const capture = new CaptureTransport();
    await capture.deliver(mail('a@example.com'));
    await expect(capture.waitFor((m) => m.to === 'z@example.com', 30)).rejects.toThrow(/within 30 ms/);
    await expect(
      capture.waitFor(() => {
        throw new Error('bad predicate');
      }, 30),
    ).rejects.toThrow('bad predicate');
  });

  it('works with Mailer end to end', async () => {
    const capture = new CaptureTransport();
    const mailer = new Mailer(capture, { from: 'x@example.com', logger: memoryLogger().logger });
    const waiting = capture.waitFor((m) => m.template === 'passwordChanged', 1000);
    mailer.send('ada@example.com', passwordChanged({ identifier: 'ada' }), 'passwordChanged');
    await expect(waiting).resolves.toMatchObject({ to: 'ada@example.com', subject: 'Your password was changed' });
  });
});

describe('OutboxTransport', () => {
  it('inserts through a fork of the root EntityManager per delivery, prunes expired rows and logs no body', async () => {
    const inserts: unknown[][] = [];
    const deletes: unknown[][] = [];
    const fork = vi.fn(() => ({
      insert: async (...args: unknown[]) => void inserts.push(args),
      nativeDelete: async (...args: unknown[]) => void deletes.push(args),
    }));
    const em = { fork } as unknown as EntityManager;
    const { logger, lines } = memoryLogger();
    const outbox = new OutboxTransport(em, logger);
    const rendered = passwordReset({ identifier: 'ada', link: 'https://x.example/r?t=SECRET', token: 'SECRET', expiresAt });
    await outbox.deliver({ to: 'ada@example.com', template: 'passwordReset', ...rendered });
    await outbox.deliver({ to: 'bob@example.com', template: 'passwordReset', ...rendered });
    expect(fork).toHaveBeenCalledTimes(2);
    expect(inserts[0]![0]).toBe(MailOutboxMessage);
    expect(inserts[0]![1]).toMatchObject({
      recipient: 'ada@example.com',
      template: 'passwordReset',
      subject: 'Reset your password',
      textBody: rendered.text,
      htmlBody: rendered.html,
      expiresAt,
    });
    expect(deletes).toHaveLength(2);
    expect(deletes[0]).toEqual([MailOutboxMessage, { expiresAt: { $lte: expect.any(Date) } }]);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 30, to: 'ada@example.com', template: 'passwordReset', subject: 'Reset your password' });
    expect(JSON.stringify(lines)).not.toContain('SECRET');
  });

  it('rejects when the insert fails, which the Mailer logs', async () => {
    const em = { fork: () => ({ insert: async () => Promise.reject(new Error('relation "mail_outbox" does not exist')) }) };
    const { logger, lines } = memoryLogger();
    const mailer = new Mailer(new OutboxTransport(em as unknown as EntityManager, logger), { from: 'x', logger });
    mailer.send('ada@example.com', sample, 'confirmEmail');
    await mailer.drain();
    expect(lines).toEqual([expect.objectContaining({ level: 50, template: 'confirmEmail' })]);
  });
});

describe('SmtpTransport', () => {
  it('hands nodemailer a well-formed message: from, to, subject, text and html parts', async () => {
    const transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
    const sendMail = vi.spyOn(transporter, 'sendMail');
    const smtp = new SmtpTransport('smtp://unused.invalid', 'profilegraph <no-reply@example.com>', { transporter });
    const rendered = confirmEmail({ identifier: 'ada', link: 'https://app.example/confirm?token=T0K3N', token: 'T0K3N', expiresAt });
    await smtp.deliver({ to: 'ada@example.com', template: 'confirmEmail', ...rendered });
    smtp.close();

    expect(sendMail).toHaveBeenCalledTimes(1);
    const info = (await sendMail.mock.results[0]!.value) as { envelope: { from: string; to: string[] }; message: Buffer };
    expect(info.envelope).toEqual({ from: 'no-reply@example.com', to: ['ada@example.com'] });
    const raw = info.message.toString('utf8');
    expect(raw).toMatch(/^From: profilegraph <no-reply@example\.com>$/m);
    expect(raw).toMatch(/^To: ada@example\.com$/m);
    expect(raw).toMatch(/^Subject: Confirm your email address$/m);
    expect(raw).toMatch(/^Content-Type: multipart\/alternative;/m);
    expect(raw).toMatch(/^Content-Type: text\/plain; charset=utf-8$/m);
    expect(raw).toMatch(/^Content-Type: text\/html; charset=utf-8$/m);
    expect(raw).toContain('T0K3N');
  });

  it('rejects with the transporter error (the Mailer then logs it)', async () => {
    const transporter = nodemailer.createTransport({ jsonTransport: true });
    vi.spyOn(transporter, 'sendMail').mockRejectedValue(new Error('454 relay access denied'));
    const smtp = new SmtpTransport('smtp://unused.invalid', 'no-reply@example.com', { transporter });
    await expect(smtp.deliver({ to: 'a@example.com', template: 't', ...sample })).rejects.toThrow('relay access denied');
  });
});

describe('createMailTransport', () => {
  const deps = { em: {} as EntityManager, logger: memoryLogger().logger };

  it('builds the outbox by default and SMTP on request', () => {
    expect(createMailTransport({ transport: 'outbox', from: 'x@example.com' }, deps)).toBeInstanceOf(OutboxTransport);
    const smtp = createMailTransport({ transport: 'smtp', smtpUrl: 'smtp://localhost:2525', from: 'x@example.com' }, deps);
    expect(smtp).toBeInstanceOf(SmtpTransport);
    (smtp as SmtpTransport).close();
  });

  it('refuses smtp without a URL', () => {
    expect(() => createMailTransport({ transport: 'smtp', from: 'x@example.com' }, deps)).toThrow(/SMTP_URL/);
  });
});
