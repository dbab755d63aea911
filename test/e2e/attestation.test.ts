import type { ExchangeNode } from '../../app/exchange-node';
import type { FreeSwitchAdapter } from '../../app/switch/freeswitch';
import { createApiKey } from '../../app/store/api-keys';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { AsteriskHarness } from './asterisk-harness';
import { FreeSwitchHarness } from './freeswitch-harness';

/**
 * STIR/SHAKEN trust (issue 14, feature 7), end to end through each switch peer and a node started with
 * ATTESTATION_TRUSTED_CARRIERS: a campaign that requires A attestation takes a call whose X-Attestation header
 * came from a trusted carrier trunk or whose P-Asserted-Identity carries verstat A, refuses an A header from
 * anyone else, and does not refuse the calls the exchange places itself.
 */
const DID = '+18885550600';
const BUYER = '+15551230021';
const CONSUMER = '+13125550177';
const TRUSTED_IP = '203.0.113.10';
const UNTRUSTED_IP = '198.51.100.7';
const ENV = { ATTESTATION_TRUSTED_CARRIERS: `${TRUSTED_IP},trunk:callx_carriers,trunk:trusted_carrier` };

/** What the carrier sent: the source, an X-Attestation header, a P-Asserted-Identity. */
interface Carrier {
  ip?: string;
  trunk?: string;
  header?: string;
  pai?: string;
}

const harnesses = [
  [
    'freeswitch',
    () => {
      const h = new FreeSwitchHarness(ENV);
      const place = (node: ExchangeNode, ani: string, c: Carrier) =>
        h.peer.placeCall({
          app: { host: '127.0.0.1', port: (node.switches[0] as FreeSwitchAdapter).port },
          ani,
          dnis: DID,
          hangupAfterBridgeMs: 200,
          carrierIp: c.ip ?? UNTRUSTED_IP,
          sofiaProfile: c.trunk ?? 'external',
          ...(c.header ? { sipHeaders: { 'X-Attestation': c.header } } : {}),
          ...(c.pai ? { pAssertedIdentity: c.pai } : {}),
        }).finished;
      return { h, place };
    },
  ],
  [
    'asterisk',
    () => {
      const h = new AsteriskHarness(ENV);
      // The dialplan (asterisk-conf/extensions.conf) copies X-Attestation and P-Asserted-Identity into these.
      const place = (_node: ExchangeNode, ani: string, c: Carrier) =>
        h.peer.placeCall({
          ani,
          dnis: DID,
          hangupAfterBridgeMs: 200,
          carrier: c.trunk ?? 'carrier',
          channelVars: { ...(c.header ? { CALLX_ATTESTATION: c.header } : {}), ...(c.pai ? { CALLX_IDENTITY: c.pai } : {}) },
        }).finished;
      return { h, place };
    },
  ],
] as const;

describe.each(harnesses)('%s: attestation is believed only from trusted carriers', (name, make) => {
  let infra: TestInfra;
  let node: ExchangeNode;
  let adminKey: string;
  const { h: harness, place } = make();
  let n = 0;
  const nextAni = () => `+1404555${String(5000 + ++n)}`;
  const row = async (ani: string) =>
    eventually(async () => {
      await node.recorder!.drain();
      return (await infra.pool.query('SELECT c.*, d.trace FROM calls c JOIN call_decisions d ON d.call_id = c.id WHERE c.ani = $1 AND c.ended_at IS NOT NULL', [ani])).rows[0];
    }, `the call from ${ani} to be recorded`);

  beforeAll(async () => {
    infra = await createTestInfra(`e2e_attestation_${name}`);
    await seedAccount(infra.pool, { id: 'seller', kind: 'seller' });
    await seedAccount(infra.pool, { id: 'buyer', kind: 'buyer' });
    // exempt from outbound consent (issue 14): the outbound case is about our own attestation
    await seedCampaign(infra.pool, { id: 'strict', sellerId: 'seller', dids: [DID], floorCents: 100, minAttestation: 'A', outboundConsentExempt: true });
    await seedTarget(infra.pool, { id: 't', buyerId: 'buyer', campaignId: 'strict', bidCents: 2000, destination: BUYER, answerTimeoutSec: 2 });
    node = await harness.start(infra, { clock: () => new Date('2026-11-24T16:00:00Z') }); // 10:00 in Chicago
    adminKey = (await createApiKey(infra.pool, { role: 'admin' })).key;
    await eventually(async () => node.switches.every((s) => s.isConnected()), 'the switch control connection');
    harness.setBuyer(BUYER, { kind: 'answer', afterMs: 20 });
  });

  afterAll(async () => {
    await harness?.stop();
    await infra?.cleanup();
  });

  it('an A header from an untrusted carrier is ignored: the call is refused as attestation_required', async () => {
    const ani = nextAni();
    await place(node, ani, { header: 'A' });
    const r = await row(ani);
    expect(r).toMatchObject({ outcome: 'rejected', reject_reason: 'screened_out', attestation: null });
    expect(r.trace.screening.reasons).toEqual(['attestation_required']);
    expect(r.trace.attestation.ignored).toContain('not a trusted carrier trunk');
  });

  const trustedTrunk = name === 'freeswitch' ? 'callx_carriers' : 'trusted_carrier';
  it.each([
    ...(name === 'freeswitch' ? [['from a trusted source address', { ip: TRUSTED_IP, header: 'A' }, 'header'] as const] : []),
    [`from a trusted trunk (${trustedTrunk})`, { trunk: trustedTrunk, header: 'A' }, 'header'],
    ['in the P-Asserted-Identity verstat, from anyone', { pai: '<sip:+14045550000;verstat=TN-Validation-Passed-A@carrier.example;user=phone>' }, 'verstat'],
  ] as const)('A attestation %s is believed: the call is bridged', async (_what, carrier, source) => {
    const ani = nextAni();
    await place(node, ani, carrier);
    const r = await row(ani);
    expect(r).toMatchObject({ outcome: 'bridged', attestation: 'A' });
    expect(r.trace.attestation).toEqual({ level: 'A', source });
  });

  it('a verstat B is not raised to A by an untrusted A header', async () => {
    const ani = nextAni();
    await place(node, ani, { header: 'A', pai: '<sip:+14045550000;verstat=TN-Validation-Passed-B@carrier.example;user=phone>' });
    expect(await row(ani)).toMatchObject({ outcome: 'rejected', attestation: 'B' });
  });

  it('a call the exchange places to a consumer carries our own attestation and is not refused', async () => {
    harness.setConsumer(CONSUMER, { kind: 'answer', afterMs: 20, hangupAfterMs: 400 });
    const r = await fetch(`http://127.0.0.1:${node.httpPort}/v1/outbound-calls`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ campaignId: 'strict', to: CONSUMER, answerTimeoutSec: 10 }),
    });
    expect(r.status).toBe(202);
    const call = await row(CONSUMER);
    expect(call).toMatchObject({ direction: 'outbound', outcome: 'bridged', attestation: 'A' });
    expect(call.trace.attestation).toEqual({ level: 'A', source: 'own' });
  });
});
