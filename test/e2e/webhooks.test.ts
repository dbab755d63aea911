/**
 * Signed webhooks end to end: calls through the FreeSWITCH peer into a real node; the recorder fans each bridge and
 * end out on the webhook queue, the node's webhook worker POSTs them to receivers this test runs on local HTTP
 * ports, and the API shows each delivery. Receivers check signatures as a customer would: on the raw body, with
 * the secret the API gave their account. Retries use a short backoff (WEBHOOK_BACKOFF_MS) and 3 attempts.
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { WebhookReceiver, type Received } from '../support/webhook-receiver';
import { FreeSwitchHarness } from './freeswitch-harness';

let infra: TestInfra;
let harness: FreeSwitchHarness;
let node: ExchangeNode;
const PAYOUT = 1234;

/** Every number in a parsed JSON value. */
function numbersIn(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.flatMap(numbersIn);
  if (v && typeof v === 'object') return Object.values(v).flatMap(numbersIn);
  return [];
}
const DID = { good: '+18885550461', flaky: '+18885550462', dead: '+18885550463' };
const DEST = { good: '+15551230461', flaky: '+15551230462', dead: '+15551230463' };
const BID = { good: 2100, flaky: 2200, dead: 2300 };
const receivers = { good: new WebhookReceiver(), flaky: new WebhookReceiver(), dead: new WebhookReceiver(), seller: new WebhookReceiver() };
const keys: Record<'admin' | 'agent' | 'seller' | 'good' | 'flaky' | 'dead' | 'other', string> = {} as never;
const secrets: Record<string, string> = {};

async function api(method: string, path: string, key: string, body?: unknown): Promise<{ status: number; json: any }> {
  const r = await fetch(`http://127.0.0.1:${node.httpPort}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  infra = await createTestInfra('e2e_webhooks');
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller' });
  for (const b of ['good', 'flaky', 'dead'] as const) {
    await seedAccount(infra.pool, { id: `buyer-${b}`, kind: 'buyer' });
    await seedCampaign(infra.pool, { id: `camp-${b}`, sellerId: 'seller', dids: [DID[b]], routing: 'first_price', payoutCents: PAYOUT });
    await seedTarget(infra.pool, { id: `target-${b}`, buyerId: `buyer-${b}`, campaignId: `camp-${b}`, bidCents: BID[b], destination: DEST[b], convertOnSeconds: 0 });
  }
  await seedAccount(infra.pool, { id: 'buyer-other', kind: 'buyer' });
  // The receivers are on 127.0.0.1: allowed here only (by default a customer's URL may not reach a private address).
  harness = new FreeSwitchHarness({ WEBHOOK_ATTEMPTS: '3', WEBHOOK_BACKOFF_MS: '100', WEBHOOK_TIMEOUT_MS: '2000', WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true' });
  node = await harness.start(infra);
  for (const b of ['good', 'flaky', 'dead'] as const) harness.setBuyer(DEST[b], { kind: 'answer', afterMs: 10 });

  keys.admin = (await createApiKey(infra.pool, { role: 'admin' })).key;
  keys.agent = (await createApiKey(infra.pool, { role: 'agent' })).key;
  keys.seller = (await createApiKey(infra.pool, { role: 'seller', accountId: 'seller' })).key;
  for (const b of ['good', 'flaky', 'dead', 'other'] as const) keys[b] = (await createApiKey(infra.pool, { role: 'buyer', accountId: `buyer-${b}` })).key;

  // Each account adds its endpoint through the API; its first endpoint's answer carries its secret, once.
  const subscribe = async (who: 'good' | 'flaky' | 'dead' | 'seller', events: string[]) => {
    const r = await api('POST', '/v1/webhooks/endpoints', keys[who], { url: await receivers[who].start(), events });
    expect(r.status).toBe(201);
    expect(r.json.secret).toMatch(/^whsec_/);
    secrets[who] = r.json.secret;
    return r.json;
  };
  await subscribe('good', ['call.bridged', 'call.ended']);
  await subscribe('flaky', ['call.bridged']);
  await subscribe('dead', ['call.ended']);
  await subscribe('seller', ['call.ended']); // the seller asks for ends only
}, 60_000);

afterAll(async () => {
  await harness?.stop();
  for (const r of Object.values(receivers)) await r.stop();
  await infra?.cleanup();
});

const place = (ani: string, dnis: string) => harness.placeCall({ ani, dnis, hangupAfterBridgeMs: 50 }).finished;
const bodyOf = (r: Received) => JSON.parse(r.rawBody) as { id: string; type: string; occurredAt: string; data: { call: Record<string, unknown> } };
const callIdOf = async (ani: string) =>
  eventually(async () => (await infra.pool.query<{ id: string; price_cents: string }>('SELECT id, price_cents FROM calls WHERE ani = $1 AND ended_at IS NOT NULL', [ani])).rows[0], `the call from ${ani} recorded`);

it('a bridged call sends the winning buyer signed call.bridged and call.ended with its own view, and the subscribed seller its own', async () => {
  const ani = '+18135554601';
  expect((await place(ani, DID.good)).bridgedTo).toContain(DEST.good);
  const call = await callIdOf(ani);
  const good = receivers.good;
  await eventually(async () => good.ofType('call.ended').length === 1 && good.ofType('call.bridged').length === 1, 'both events at the buyer', 10_000);

  for (const type of ['call.bridged', 'call.ended']) {
    const [got] = good.ofType(type);
    expect(WebhookReceiver.verify(got!, secrets.good!)).toEqual({ ok: true, timestampSec: expect.any(Number) });
    // Another account's secret does not verify it: the signature is per account.
    expect(WebhookReceiver.verify(got!, secrets.seller!)).toEqual({ ok: false, reason: 'bad_signature' });
    const body = bodyOf(got!);
    expect(body.type).toBe(type);
    expect(body.id).toMatch(/^evt_/);
    expect(got!.headers['x-callx-event-id']).toBe(body.id);
    expect(body.data.call).toMatchObject({ callId: call.id, campaignId: 'camp-good', ani, dnis: DID.good, winnerBuyerId: 'buyer-good', winnerTargetId: 'target-good', priceCents: Number(call.price_cents) });
    expect(body.data.call.priceCents).toBe(BID.good); // first price: its own bid
    // The buyer never sees the seller's payout.
    // (As a number anywhere in it: the raw text may hold the digits inside a random call id.)
    expect(numbersIn(JSON.parse(got!.rawBody))).not.toContain(PAYOUT);
    expect(got!.rawBody).not.toMatch(/payout/i);
  }
  expect(bodyOf(good.ofType('call.ended')[0]!).data.call).toMatchObject({ outcome: 'bridged', bridgedAt: expect.any(String), endedAt: expect.any(String), billableSec: expect.any(Number) });
  expect(bodyOf(good.ofType('call.bridged')[0]!).data.call.endedAt).toBeUndefined();

  // The seller subscribed to ends only: its view has the call's facts and nothing of the buyer side.
  const sellerGot = await eventually(async () => receivers.seller.received.find((r) => bodyOf(r).data.call.callId === call.id), 'the end at the seller', 10_000);
  expect(receivers.seller.received.filter((r) => bodyOf(r).data.call.callId === call.id).map((r) => bodyOf(r).type)).toEqual(['call.ended']);
  expect(WebhookReceiver.verify(sellerGot, secrets.seller!).ok).toBe(true);
  const sellerCall = bodyOf(sellerGot).data.call;
  expect(sellerCall).toMatchObject({ callId: call.id, sellerAccountId: 'seller', campaignId: 'camp-good', outcome: 'bridged' });
  for (const hidden of ['winnerBuyerId', 'winnerTargetId', 'priceCents']) expect(sellerCall[hidden]).toBeUndefined();
  expect(sellerGot.rawBody).not.toContain('buyer-good');
  // The same event, the same id, for every receiver of it.
  expect(bodyOf(sellerGot).id).toBe(bodyOf(good.ofType('call.ended')[0]!).id);

  // The API lists both deliveries to the buyer as delivered at the first attempt. The worker records a delivery
  // after the receiver answered, so the listing is read once neither is pending any more.
  const list = await eventually(async () => {
    const r = await api('GET', '/v1/webhooks/deliveries', keys.good);
    return r.status !== 200 || r.json.items.every((d: any) => d.status !== 'pending') ? r : undefined;
  }, 'both deliveries recorded', 10_000);
  expect(list.status).toBe(200);
  expect(list.json.items.map((d: any) => [d.eventType, d.callId, d.status, d.attempts, d.lastHttpStatus]).sort()).toEqual([
    ['call.bridged', call.id, 'delivered', 1, null],
    ['call.ended', call.id, 'delivered', 1, null],
  ]);
}, 30_000);

it('a receiver that fails twice gets the delivery at the third attempt, with the same event id each time', async () => {
  receivers.flaky.answer = ({ previousTries }) => (previousTries < 2 ? 500 : 200);
  const ani = '+18135554602';
  await place(ani, DID.flaky);
  const call = await callIdOf(ani);
  const d = await eventually(async () => {
    const r = await api('GET', '/v1/webhooks/deliveries', keys.flaky);
    return r.json.items.find((x: any) => x.callId === call.id && x.status === 'delivered');
  }, 'the flaky delivery delivered', 15_000);
  expect(d).toMatchObject({ eventType: 'call.bridged', attempts: 3 });
  const tries = receivers.flaky.received;
  expect(tries.map((t) => t.answered)).toEqual([500, 500, 200]);
  expect(new Set(tries.map((t) => bodyOf(t).id)).size).toBe(1);
  for (const t of tries) expect(WebhookReceiver.verify(t, secrets.flaky!).ok).toBe(true);
}, 30_000);

it('a receiver that always fails leaves the delivery dead after the last attempt, listed as a dead letter; a redelivery is signed with the current secret', async () => {
  receivers.dead.answer = () => 503;
  const ani = '+18135554603';
  await place(ani, DID.dead);
  const call = await callIdOf(ani);
  const dead = await eventually(async () => {
    const r = await api('GET', '/v1/webhooks/deliveries?status=dead', keys.dead);
    return r.json.items.find((x: any) => x.callId === call.id);
  }, 'the delivery dead', 15_000);
  expect(dead).toMatchObject({ eventType: 'call.ended', status: 'dead', attempts: 3, lastHttpStatus: 503, lastError: 'HTTP 503' });
  expect(receivers.dead.received).toHaveLength(3);
  // Operators see it in the dead letters too.
  expect((await api('GET', '/v1/webhooks/deliveries?status=dead', keys.agent)).json.items.map((x: any) => x.id)).toContain(dead.id);
  // The payload it carried is the buyer's own view.
  const detail = await api('GET', `/v1/webhooks/deliveries/${dead.id}`, keys.dead);
  expect(detail.json.payload.data.call).toMatchObject({ callId: call.id, winnerBuyerId: 'buyer-dead', priceCents: BID.dead });

  // The buyer fixes its receiver and rotates its secret, then asks for the dead delivery again.
  receivers.dead.answer = () => 204;
  const rotated = await api('POST', '/v1/accounts/buyer-dead/webhook-secret', keys.dead);
  expect(rotated.status).toBe(201);
  expect(rotated.json.secret).not.toBe(secrets.dead);
  expect((await api('POST', `/v1/webhooks/deliveries/${dead.id}/redeliver`, keys.dead)).status).toBe(202);
  await eventually(async () => (await api('GET', `/v1/webhooks/deliveries/${dead.id}`, keys.dead)).json.status === 'delivered', 'the redelivery delivered', 10_000);
  const last = receivers.dead.received[receivers.dead.received.length - 1]!;
  expect(bodyOf(last).id).toBe(bodyOf(receivers.dead.received[0]!).id);
  expect(WebhookReceiver.verify(last, rotated.json.secret).ok).toBe(true);
  expect(WebhookReceiver.verify(last, secrets.dead!).ok).toBe(false);
  // Only a dead delivery is redelivered.
  expect((await api('POST', `/v1/webhooks/deliveries/${dead.id}/redeliver`, keys.dead)).json.error.code).toBe('not_dead');
}, 30_000);

it('a rotation that keeps the previous secret signs with both until then, so the receiver can switch without refusing one', async () => {
  const rotated = await api('POST', '/v1/accounts/buyer-good/webhook-secret', keys.good, { keepPreviousSeconds: 3600 });
  expect(rotated.status).toBe(201);
  expect(Date.parse(rotated.json.previousValidUntil)).toBeGreaterThan(Date.now() + 3_000_000);
  const ani = '+18135554604';
  await place(ani, DID.good);
  const call = await callIdOf(ani);
  const got = await eventually(async () => receivers.good.received.find((r) => bodyOf(r).data.call.callId === call.id && bodyOf(r).type === 'call.ended'), 'the end at the buyer', 10_000);
  expect(WebhookReceiver.verify(got, secrets.good!).ok).toBe(true); // the receiver that still has the old secret
  expect(WebhookReceiver.verify(got, rotated.json.secret).ok).toBe(true); // and the one that switched
  secrets.good = rotated.json.secret;
  // Rotated again without keeping it: only the newest signs.
  const again = await api('POST', '/v1/accounts/buyer-good/webhook-secret', keys.good, {});
  expect(again.json.previousValidUntil).toBeNull();
  expect((await api('GET', '/v1/accounts/buyer-good/webhook-secret', keys.good)).json.previousValidUntil).toBeNull();
  secrets.good = again.json.secret;
  expect((await api('POST', '/v1/accounts/buyer-good/webhook-secret', keys.good, { keepPreviousSeconds: 86_400 * 8 })).json.error.field).toBe('keepPreviousSeconds');
}, 30_000);

it('another account cannot read or touch an account\'s deliveries, endpoints or secret', async () => {
  const mine = (await api('GET', '/v1/webhooks/deliveries', keys.good)).json.items;
  expect(mine.length).toBeGreaterThan(0);
  const endpoint = (await api('GET', '/v1/webhooks/endpoints', keys.good)).json.items[0];
  const hintBefore = (await api('GET', '/v1/accounts/buyer-good/webhook-secret', keys.good)).json.hint;

  expect((await api('GET', '/v1/webhooks/deliveries', keys.other)).json.items).toEqual([]);
  expect((await api('GET', '/v1/webhooks/endpoints', keys.other)).json.items).toEqual([]);
  for (const [method, path, body] of [
    ['GET', '/v1/webhooks/deliveries?accountId=buyer-good'],
    ['GET', `/v1/webhooks/deliveries/${mine[0].id}`],
    ['POST', `/v1/webhooks/deliveries/${mine[0].id}/redeliver`],
    ['GET', `/v1/webhooks/endpoints/${endpoint.id}`],
    ['PATCH', `/v1/webhooks/endpoints/${endpoint.id}`, { url: 'http://127.0.0.1:1/stolen' }],
    ['DELETE', `/v1/webhooks/endpoints/${endpoint.id}`],
    ['GET', '/v1/accounts/buyer-good/webhook-secret'],
    ['POST', '/v1/accounts/buyer-good/webhook-secret'],
    ['POST', '/v1/webhooks/endpoints', { accountId: 'buyer-good', url: 'http://127.0.0.1:1/stolen', events: ['call.ended'] }],
  ] as Array<[string, string, unknown?]>) {
    for (const who of ['other', 'seller'] as const) {
      const r = await api(method, path, keys[who], body);
      expect({ who, method, path, status: r.status }).toEqual({ who, method, path, status: 404 });
    }
  }
  // Nothing changed: the endpoint and the secret are as they were.
  expect((await api('GET', `/v1/webhooks/endpoints/${endpoint.id}`, keys.good)).json).toEqual(endpoint);
  expect((await api('GET', '/v1/accounts/buyer-good/webhook-secret', keys.good)).json.hint).toBe(hintBefore);
  // The secret is never shown again after its creation, not even to its account.
  expect(JSON.stringify((await api('GET', '/v1/accounts/buyer-good/webhook-secret', keys.good)).json)).not.toContain(secrets.good!);
  // Operators see every account's deliveries.
  expect((await api('GET', '/v1/webhooks/deliveries?accountId=buyer-good', keys.agent)).json.items.map((d: any) => d.id).sort()).toEqual(mine.map((d: any) => d.id).sort());
});

it('endpoint URLs must be http or https', async () => {
  for (const url of ['ftp://example.com/hook', 'javascript:alert(1)', 'not a url', 'file:///etc/passwd']) {
    const r = await api('POST', '/v1/webhooks/endpoints', keys.good, { url, events: ['call.ended'] });
    expect({ url, status: r.status, field: r.json.error.field }).toEqual({ url, status: 400, field: 'url' });
  }
  expect((await api('POST', '/v1/webhooks/endpoints', keys.good, { url: 'https://hooks.example.com/callx', events: ['call.bogus'] })).json.error.field).toBe('events.0');
});
