import { createHmac } from 'node:crypto';
import { signatureHeader, verifyWebhookSignature, webhookEventId } from '../../app/domain/webhook-signature';
import { projectWebhookCall } from '../../app/api/projections';
import { SecretBox } from '../../app/util/secret-box';

const SECRET = 'whsec_test-secret';
const BODY = '{"id":"evt_1","type":"call.ended","data":{"call":{"callId":"c1","priceCents":1500}}}';
const T = 1_796_000_000;
const good = signatureHeader(SECRET, T, BODY);

describe('verifyWebhookSignature', () => {
  it('the header is t=<unix>,v1=<hex HMAC-SHA256 of "t.body">, as a receiver recomputes it by hand', () => {
    const hex = createHmac('sha256', SECRET).update(`${T}.${BODY}`).digest('hex');
    expect(good).toBe(`t=${T},v1=${hex}`);
  });

  it.each([
    ['the body and secret it was signed with', BODY, good, SECRET, T + 10, { ok: true, timestampSec: T }],
    ['at the edge of the tolerance', BODY, good, SECRET, T + 300, { ok: true, timestampSec: T }],
    ['one of several v1 values matching (a rotation)', BODY, `t=${T},v1=${'0'.repeat(64)},v1=${good.split('v1=')[1]}`, SECRET, T, { ok: true, timestampSec: T }],
    ['a body changed by one byte', BODY.replace('1500', '1501'), good, SECRET, T, { ok: false, reason: 'bad_signature' }],
    ['another account\'s secret', BODY, good, 'whsec_other', T, { ok: false, reason: 'bad_signature' }],
    ['a replay past the tolerance', BODY, good, SECRET, T + 301, { ok: false, reason: 'too_old' }],
    ['a timestamp from the future', BODY, good, SECRET, T - 301, { ok: false, reason: 'in_future' }],
    ['a timestamp changed (the MAC covers it)', BODY, good.replace(`t=${T}`, `t=${T + 1}`), SECRET, T, { ok: false, reason: 'bad_signature' }],
    ['no header', BODY, undefined, SECRET, T, { ok: false, reason: 'malformed' }],
    ['no v1', BODY, `t=${T}`, SECRET, T, { ok: false, reason: 'malformed' }],
    ['no timestamp', BODY, `v1=${'a'.repeat(64)}`, SECRET, T, { ok: false, reason: 'malformed' }],
    ['a non-numeric timestamp', BODY, `t=abc,v1=${'a'.repeat(64)}`, SECRET, T, { ok: false, reason: 'malformed' }],
    ['a truncated v1', BODY, `t=${T},v1=abcd`, SECRET, T, { ok: false, reason: 'malformed' }],
    ['garbage', BODY, 'garbage', SECRET, T, { ok: false, reason: 'malformed' }],
  ] as const)('%s', (_name, body, header, secret, nowSec, expected) => {
    expect(verifyWebhookSignature(body, header, secret, { nowSec })).toEqual(expected);
  });
});

describe('signatureHeader with two secrets (a rotation keeping the previous one)', () => {
  const both = signatureHeader(['whsec_new', 'whsec_old'], T, BODY);
  it.each([
    ['the new secret', 'whsec_new', true],
    ['the old secret', 'whsec_old', true],
    ['neither', 'whsec_other', false],
  ])('verifies with %s: %s', (_name, secret, ok) => {
    expect(both.split(',').filter((p) => p.startsWith('v1=')).length).toBe(2);
    expect(verifyWebhookSignature(BODY, both, secret, { nowSec: T }).ok).toBe(ok);
  });
});

describe('webhookEventId', () => {
  it('is the same for the same call and event, different otherwise', () => {
    expect(webhookEventId('c1', 'call.ended')).toBe(webhookEventId('c1', 'call.ended'));
    expect(webhookEventId('c1', 'call.ended')).not.toBe(webhookEventId('c1', 'call.bridged'));
    expect(webhookEventId('c1', 'call.ended')).not.toBe(webhookEventId('c2', 'call.ended'));
    expect(webhookEventId('c1', 'call.ended')).toMatch(/^evt_[0-9a-f]{32}$/);
  });
});

describe('projectWebhookCall', () => {
  const row = {
    id: 'c1', direction: 'inbound', ani: '+18135550100', dnis: '+18885550100', campaignId: 'camp', sellerAccountId: 'seller',
    startedAt: '2026-12-07T10:00:00.000Z', endedAt: null, winnerBuyerId: 'buyer', winnerTargetId: 't1', priceCents: 1500,
  };
  it.each([
    ['the winning buyer: its price and target, nulls left out', { role: 'buyer', accountId: 'buyer' }, { winnerBuyerId: 'buyer', winnerTargetId: 't1', priceCents: 1500 }],
    ['another buyer: no buyer side', { role: 'buyer', accountId: 'other' }, {}],
    ['the seller: no buyer side', { role: 'seller', accountId: 'seller' }, {}],
    ['a seller with buyer details', { role: 'seller', accountId: 'seller', seesBuyerDetails: true }, { winnerBuyerId: 'buyer', winnerTargetId: 't1', priceCents: 1500 }],
  ] as const)('%s', (_name, viewer, buyerSide) => {
    expect(projectWebhookCall(row, viewer)).toEqual({
      callId: 'c1', direction: 'inbound', ani: '+18135550100', dnis: '+18885550100', campaignId: 'camp', sellerAccountId: 'seller',
      startedAt: '2026-12-07T10:00:00.000Z', ...buyerSide,
    });
  });
});

describe('SecretBox', () => {
  const KEY = 'ab'.repeat(32);
  it.each([
    ['sealed with a key, opened with it', KEY, KEY],
    ['stored plain without a key, still read once a key is set', undefined, KEY],
    ['stored plain, read plain', undefined, undefined],
  ])('%s', (_name, sealKey, openKey) => {
    const stored = SecretBox.fromKey(sealKey).seal('whsec_abc');
    expect(stored.startsWith(sealKey ? 'enc:v1:' : 'plain:')).toBe(true);
    expect(stored.includes('whsec_abc')).toBe(!sealKey);
    expect(SecretBox.fromKey(openKey).open(stored)).toBe('whsec_abc');
  });
  it('a sealed secret does not open without its key or under another', () => {
    const stored = SecretBox.fromKey(KEY).seal('whsec_abc');
    expect(() => SecretBox.fromKey(undefined).open(stored)).toThrow(/WEBHOOK_SECRET_KEY/);
    expect(() => SecretBox.fromKey('cd'.repeat(32)).open(stored)).toThrow();
  });
  it('a key of the wrong length is refused', () => {
    expect(() => SecretBox.fromKey('abcd')).toThrow(/32 bytes/);
  });
});
