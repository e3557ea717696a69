import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GOOD_PASSWORD, SIGNUP, signupSuperuser, signupUser, startTestServer, uniqueIdentifier, type TestServer } from './helpers/server.ts';

// Outbound webhooks (SPEC §8) against a real HTTP receiver on 127.0.0.1: deliveries are
// queued in the event's own transaction, signed per Standard Webhooks, retried with backoff,
// visible to staff, and survive a restart of the service.

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: { type: string; timestamp: string; data: Record<string, unknown> };
}

/** A receiver that records every POST and answers `respond(request)` (default 200). */
class Receiver {
  readonly received: Received[] = [];
  respond: (r: Received) => number = () => 200;
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const r: Received = { path: req.url ?? '', headers: req.headers, body, json: JSON.parse(body) as Received['json'] };
        this.received.push(r);
        res.statusCode = this.respond(r);
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  about(identifier: string): Received[] {
    return this.received.filter((r) => r.json.data.identifier === identifier);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

const CREATE = 'mutation($url: URL!, $events: [String!]!) { createWebhook(url: $url, events: $events) { secret webhook { id url events } } }';
const DELIVERIES = '{ webhooks { id deliveries(first: 100) { id eventId eventType status attempts lastStatusCode deliveredAt } } }';
const FAST = { WEBHOOK_DISPATCH_INTERVAL_MS: '100', WEBHOOK_RETRY_BASE_MS: '300', WEBHOOK_TIMEOUT_SECONDS: '5' };

describe('webhooks', () => {
  const receiver = new Receiver();
  let server: TestServer;
  let admin: { token: string; id: string };
  const created: string[] = [];

  beforeAll(async () => {
    await receiver.start();
    server = await startTestServer(FAST);
    admin = await signupSuperuser(server);
  });
  afterAll(async () => {
    // Other test files may share this database: leave no endpoint behind.
    for (const id of created) await server.gql('mutation($id: ID!) { deleteWebhook(id: $id) }', { id }, admin.token);
    await server?.close();
    await receiver.stop();
  });

  async function createWebhook(events: string[], url = receiver.url) {
    const res = await server.gql(CREATE, { url, events }, admin.token);
    expect(res.body.errors, res.text).toBeUndefined();
    created.push(res.body.data.createWebhook.webhook.id as string);
    return res.body.data.createWebhook as { secret: string; webhook: { id: string } };
  }

  it('only superusers manage webhooks, and bad URLs or event types are refused', async () => {
    const staff = await signupUser(server);
    await server.db.orm.em.fork().execute('update profile_account set is_staff = true where user_id = ?', [staff.id]);
    const refused = await server.gql(CREATE, { url: receiver.url, events: ['user.signup'] }, staff.token);
    expect(refused.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect((await server.gql('{ webhooks { id } }', {}, staff.token)).body.errors[0].extensions.code).toBe('FORBIDDEN');
    const badUrl = await server.gql(CREATE, { url: 'ftp://127.0.0.1/x', events: ['user.signup'] }, admin.token);
    expect(badUrl.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { url: expect.any(String) } });
    const badEvent = await server.gql(CREATE, { url: receiver.url, events: ['user.nonsense'] }, admin.token);
    expect(badEvent.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { events: expect.stringContaining('user.nonsense') } });
  });

  it('delivers a signup once, signed per Standard Webhooks', async () => {
    const { secret } = await createWebhook(['user.signup']);
    const identifier = uniqueIdentifier('hooked');
    const signup = await server.gql(SIGNUP, { identifier, password: GOOD_PASSWORD });
    expect(signup.body.errors, signup.text).toBeUndefined();
    await vi.waitFor(() => expect(receiver.about(identifier)).toHaveLength(1), { timeout: 10_000, interval: 50 });
    const [delivery] = receiver.about(identifier);
    expect(delivery!.json).toMatchObject({ type: 'user.signup', data: { identifier, subjectId: signup.body.data.signup.user.id } });
    expect(delivery!.headers['webhook-id']).toMatch(/^msg_\d+$/);
    // The package's verifier accepts it with this webhook's secret, and no other.
    const headers = {
      'webhook-id': String(delivery!.headers['webhook-id']),
      'webhook-timestamp': String(delivery!.headers['webhook-timestamp']),
      'webhook-signature': String(delivery!.headers['webhook-signature']),
    };
    expect(new Webhook(secret).verify(delivery!.body, headers)).toEqual(delivery!.json);
    expect(() => new Webhook(`whsec_${Buffer.alloc(24, 7).toString('base64')}`).verify(delivery!.body, headers)).toThrow();
    // Delivered means done: no second copy comes.
    await new Promise((r) => setTimeout(r, 800));
    expect(receiver.about(identifier)).toHaveLength(1);
  });

  it('retries with backoff: a receiver answering 500 twice gets the event on the third attempt', async () => {
    const { webhook } = await createWebhook(['user.signup'], `${receiver.url}?flaky`);
    const identifier = uniqueIdentifier('flaky');
    const flakyAttempts = () => receiver.about(identifier).filter((r) => r.path.endsWith('?flaky'));
    receiver.respond = (r) => (r.path.endsWith('?flaky') && r.json.data.identifier === identifier && flakyAttempts().length <= 2 ? 500 : 200);
    try {
      expect((await server.gql(SIGNUP, { identifier, password: GOOD_PASSWORD })).body.errors).toBeUndefined();
      // The first webhook gets it at once; the flaky one on its third attempt.
      await vi.waitFor(() => expect(flakyAttempts().length).toBeGreaterThan(0), { timeout: 10_000, interval: 50 });
      // This signup's delivery (on a shared database other signups reach the webhook too).
      const eventId = String(flakyAttempts()[0]!.json.data.eventId);
      await vi.waitFor(
        async () => {
          const list = (await server.gql(DELIVERIES, {}, admin.token)).body.data.webhooks as {
            id: string;
            deliveries: { eventId: string; status: string; attempts: number; lastStatusCode: number | null }[];
          }[];
          const flaky = list.find((w) => w.id === webhook.id)!;
          expect(flaky.deliveries.find((d) => d.eventId === eventId)).toMatchObject({ status: 'DELIVERED', attempts: 3, lastStatusCode: 200 });
        },
        { timeout: 15_000, interval: 100 },
      );
      expect(flakyAttempts()).toHaveLength(3);
      expect(new Set(flakyAttempts().map((r) => r.headers['webhook-id'])).size).toBe(1); // the same message id on every attempt
      expect(receiver.about(identifier).filter((r) => !r.path.endsWith('?flaky'))).toHaveLength(1); // the other webhook: once
    } finally {
      receiver.respond = () => 200;
    }
  });
});

describe('webhooks across a restart', () => {
  const receiver = new Receiver();
  let admin: { token: string; id: string };
  let webhookId = '';

  beforeAll(async () => {
    await receiver.start();
  });
  afterAll(async () => {
    await receiver.stop();
  });

  it('a delivery queued before a restart is sent by the next process; profile changes carry keys, never values', async () => {
    // Process 1 delivers nothing (WEBHOOK_DISPATCH_INTERVAL_MS=0) and stops with the delivery queued.
    const first = await startTestServer();
    let user: { token: string; id: string };
    try {
      admin = await signupSuperuser(first);
      const res = await first.gql(CREATE, { url: receiver.url, events: ['profile.changed'] }, admin.token);
      expect(res.body.errors, res.text).toBeUndefined();
      webhookId = res.body.data.createWebhook.webhook.id as string;
      user = await signupUser(first);
      const written = await first.gql('mutation { updateProfiles(input: { social: { bio: "a very secret biography" } }) { id } }', {}, user.token);
      expect(written.body.errors, written.text).toBeUndefined();
    } finally {
      await first.close();
    }
    expect(receiver.received).toHaveLength(0);

    // Process 2 on the same database delivers it.
    const second = await startTestServer(FAST);
    try {
      await vi.waitFor(
        () =>
          expect(receiver.received.filter((r) => r.json.data.subjectId === user.id && (r.json.data.keys as string[]).includes('social.bio'))).toHaveLength(1),
        { timeout: 10_000, interval: 50 },
      );
      const change = receiver.received.find((r) => (r.json.data.keys as string[]).includes('social.bio'))!;
      expect(change.json).toMatchObject({ type: 'profile.changed', data: { profile: 'social', keys: ['social.bio'] } });
      expect(change.body).not.toContain('a very secret biography');
    } finally {
      await second.gql('mutation($id: ID!) { deleteWebhook(id: $id) }', { id: webhookId }, admin.token);
      await second.close();
    }
  });
});
