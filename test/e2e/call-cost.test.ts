/**
 * What one bridged call costs the switch, counted at the switch peer: every command or request the exchange
 * sends and every event the switch has to build and send it. Each costs the switch CPU (issue 17: a FreeSWITCH
 * call under the exchange's control cost ~10 ms more than a plain dialplan bridge), so an operator notices them.
 * Targets: FreeSWITCH at most 6 commands and 5 events per bridged call (met: 6 and 4); Asterisk 6 REST requests
 * (met once a node has an idle bridge to reuse: 6; its first call also creates the bridge, 7).
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { FreeSwitchHarness } from './freeswitch-harness';
import { AsteriskHarness } from './asterisk-harness';

const DID = '+18885550470';
const BUYER = '+15551230047';

async function seed(infra: TestInfra): Promise<void> {
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'buyer', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'cost', sellerId: 'seller', dids: [DID], floorCents: 100 });
  await seedTarget(infra.pool, { id: 'cost-t', buyerId: 'buyer', campaignId: 'cost', bidCents: 1500, destination: BUYER, answerTimeoutSec: 5 });
}

async function bridgedRow(infra: TestInfra, node: ExchangeNode, ani: string): Promise<{ outcome: string; hung_up_by: string; billable_sec: number }> {
  return eventually(async () => {
    await node.recorder!.drain();
    const { rows } = await infra.pool.query('SELECT outcome, hung_up_by, billable_sec FROM calls WHERE ani = $1 AND ended_at IS NOT NULL', [ani]);
    return rows[0];
  }, `the call from ${ani} to be recorded`);
}

/** A node on `harness`'s switch peer, with the campaign seeded and the buyer answering; started before the block's tests. */
function nodeOn<H extends FreeSwitchHarness | AsteriskHarness>(name: string, harness: H): { harness: H; infra: () => TestInfra; node: () => ExchangeNode } {
  let infra: TestInfra | undefined;
  let node: ExchangeNode | undefined;
  beforeAll(async () => {
    infra = await createTestInfra(name);
    await seed(infra);
    node = await harness.start(infra);
    await eventually(async () => node!.switches.every((s) => s.isConnected()), 'the switch control connection');
    harness.setBuyer(BUYER, { kind: 'answer', afterMs: 20 });
  });
  afterAll(async () => {
    await harness.stop();
    await infra?.cleanup();
  });
  return { harness, infra: () => infra!, node: () => node! };
}

describe('what a bridged call costs the switch', () => {
  describe('FreeSWITCH (outbound ESL)', () => {
    const { harness, infra, node } = nodeOn('call_cost_fs', new FreeSwitchHarness());

    const place = (ani: string, variables: Record<string, string>) =>
      harness.peer.placeCall({ app: { host: '127.0.0.1', port: harness.adapter!.port }, ani, dnis: DID, hangupAfterBridgeMs: 300, variables });

    it.each([
      ['with the shipped dialplan (callx.xml)', true],
      ['with a dialplan that sets none of our variables', false],
    ])('%s: at most 6 commands and 5 events, and the call is recorded as before', async (_what, withDialplan) => {
      const ani = withDialplan ? '+18135553001' : '+18135553002';
      const session = place(ani, withDialplan ? harness.dialplanVariables : {});
      const record = await session.finished;
      expect(record.bridges.map((b) => b.result)).toEqual(['SUCCESS']);
      const row = await bridgedRow(infra(), node(), ani);
      expect(row).toMatchObject({ outcome: 'bridged', hung_up_by: 'caller' });
      const commands = session.commands.map((c) => c.line);
      const events = record.delivered.filter((name) => !name.endsWith('notice'));
      expect(commands.length).toBeLessThanOrEqual(6);
      expect(events.length).toBeLessThanOrEqual(5);
    });
  });

  describe('Asterisk (ARI)', () => {
    const { harness, infra, node } = nodeOn('call_cost_ari', new AsteriskHarness());

    // Requests a call made, once its end is recorded and the adapter has cleaned up after it (the buyer leg hung
    // up, the bridge emptied); the sweeper's periodic listings (GET /channels, GET /bridges) are no call's.
    const callRequests = async (ani: string): Promise<string[]> => {
      const before = harness.peer.requests.length;
      const result = await harness.placeCall({ ani, dnis: DID, hangupAfterBridgeMs: 300 }).finished;
      expect(result.bridgedTo).toContain(BUYER);
      const row = await bridgedRow(infra(), node(), ani);
      expect(row).toMatchObject({ outcome: 'bridged', hung_up_by: 'caller' });
      await eventually(async () => harness.nothingLeft(), 'the buyer leg hung up and the bridge emptied');
      return harness.peer.requests
        .slice(before)
        .map((r) => `${r.method} ${r.path.replace(/\?.*/, '').replace(/\/channels\/[^/]+/, '/channels/{id}').replace(/\/bridges\/[^/]+/, '/bridges/{id}')}`)
        .filter((r) => r !== 'GET /ari/channels' && r !== 'GET /ari/bridges');
    };

    it('at most 6 REST requests once the node has a bridge to reuse (7 for its first call), and the call is recorded as before', async () => {
      // Tag the caller, ring it, originate the buyer, answer, create the bridge, add both, hang up the buyer.
      const first = await callRequests('+18135553003');
      expect(first).toContain('POST /ari/bridges');
      expect(first.length).toBeLessThanOrEqual(7);
      // The same in the bridge the first call left empty: no POST /bridges, and no DELETE /bridges for either.
      const second = await callRequests('+18135553004');
      expect([...first, ...second].filter((r) => r.startsWith('DELETE /ari/bridges'))).toEqual([]);
      expect(second.filter((r) => r.startsWith('POST /ari/bridges') && !r.endsWith('/addChannel'))).toEqual([]);
      expect(second.length).toBeLessThanOrEqual(6);
    });
  });
});
