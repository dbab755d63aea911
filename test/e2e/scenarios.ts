import type { ExchangeNode } from '../../app/exchange-node';
import type { Bidder } from '../../app/exchange/bidders';
import { createApiKey } from '../../app/store/api-keys';
import { recordConsent } from '../../app/store/compliance-repo';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import type { SwitchHarness } from './harness';

/**
 * End-to-end scenarios every switch adapter must pass, written once and run against each switch peer:
 * real sockets to the peer, a real exchange node, real Postgres and Redis; outcomes read from the database.
 */
export function switchScenarios(name: string, makeHarness: () => SwitchHarness): void {
  describe(`${name}: calls end to end through the switch peer`, () => {
    let infra: TestInfra;
    let harness: SwitchHarness;
    let node: ExchangeNode;
    let adminKey: string;
    let clockOffsetMs = 0;
    let slowBidderMs = 0;
    const DID = '+18885550400';
    const SLOW_DID = '+18885550401';
    const BUYER_A = '+15551230001';
    const BUYER_B = '+15551230002';
    const BUYER_C = '+15551230003';
    const CAPPED_DID = '+18885550402';
    let n = 0;
    const nextAni = () => `+1813555${String(2000 + ++n)}`;

    // A real-time bidder that answers slowly, only for the "slow" campaign: a window for the caller to hang up mid-auction.
    const slowBidder: Bidder = {
      name: 'slow-rtb',
      bid: (req) => (req.campaign.id === 'slow' ? new Promise((resolve) => setTimeout(() => resolve([]), slowBidderMs)) : []),
    };

    const callRow = async (ani: string) =>
      eventually(async () => {
        await node.recorder!.drain();
        const { rows } = await infra.pool.query('SELECT * FROM calls WHERE ani = $1 AND ended_at IS NOT NULL', [ani]);
        return rows[0];
      }, `the call from ${ani} to be recorded`);

    beforeAll(async () => {
      infra = await createTestInfra(`e2e_${name}`);
      await seedAccount(infra.pool, { id: 'seller', kind: 'seller' });
      await seedAccount(infra.pool, { id: 'buyer-a', kind: 'buyer' });
      await seedAccount(infra.pool, { id: 'buyer-b', kind: 'buyer' });
      await seedCampaign(infra.pool, { id: 'main', sellerId: 'seller', dids: [DID], floorCents: 100 });
      // Outbound calls need the consumer's consent on record (issue 14): the consumer the outbound tests call gave it.
      await recordConsent(infra.pool, infra.redis, { campaignId: 'main', number: '+13125550199', leadId: 'lead-e2e', source: 'web form', consentedAt: new Date('2026-11-20T00:00:00Z') });
      await seedTarget(infra.pool, { id: 'a', buyerId: 'buyer-a', campaignId: 'main', bidCents: 3000, destination: BUYER_A, answerTimeoutSec: 2, capConcurrency: 5 });
      await seedTarget(infra.pool, { id: 'b', buyerId: 'buyer-b', campaignId: 'main', bidCents: 2000, destination: BUYER_B, answerTimeoutSec: 2 });
      await seedCampaign(infra.pool, { id: 'slow', sellerId: 'seller', dids: [SLOW_DID] });
      await infra.pool.query("UPDATE campaigns SET bid_deadline_ms = 2000 WHERE id = 'slow'");
      await seedTarget(infra.pool, { id: 'slow-a', buyerId: 'buyer-a', campaignId: 'slow', bidCents: 1000, destination: BUYER_A, capConcurrency: 1 });
      // Failover past a buyer whose concurrency cap is full: A busy, B holds one call at a time, C takes the rest.
      await seedAccount(infra.pool, { id: 'buyer-c', kind: 'buyer' });
      await seedCampaign(infra.pool, { id: 'capped', sellerId: 'seller', dids: [CAPPED_DID] });
      await seedTarget(infra.pool, { id: 'cap-a', buyerId: 'buyer-a', campaignId: 'capped', bidCents: 3000, destination: BUYER_A, answerTimeoutSec: 2 });
      await seedTarget(infra.pool, { id: 'cap-b', buyerId: 'buyer-b', campaignId: 'capped', bidCents: 2000, destination: BUYER_B, answerTimeoutSec: 2, capConcurrency: 1 });
      await seedTarget(infra.pool, { id: 'cap-c', buyerId: 'buyer-c', campaignId: 'capped', bidCents: 1000, destination: BUYER_C, answerTimeoutSec: 2 });
      harness = makeHarness();
      node = await harness.start(infra, { bidders: [slowBidder], clock: () => new Date(Date.now() + clockOffsetMs) });
      adminKey = (await createApiKey(infra.pool, { role: 'admin' })).key;
      await eventually(async () => node.switches.every((s) => s.isConnected()), 'the switch control connection');
    });

    afterAll(async () => {
      await harness?.stop();
      await infra?.cleanup();
    });

    beforeEach(() => {
      clockOffsetMs = 0;
      harness.setBuyer(BUYER_A, { kind: 'answer', afterMs: 20 });
      harness.setBuyer(BUYER_B, { kind: 'answer', afterMs: 20 });
    });

    it('bridges a call to the winner and records it with its durations', async () => {
      const ani = nextAni();
      const call = harness.placeCall({ ani, dnis: DID, hangupAfterBridgeMs: 1200 });
      const result = await call.finished;
      expect(result.bridgedTo).toContain(BUYER_A);
      const row = await callRow(ani);
      expect(row).toMatchObject({ outcome: 'bridged', winner_target_id: 'a', switch_name: harness.switchName, hung_up_by: 'caller' });
      expect(Number(row.price_cents)).toBe(2000);
      expect(row.billable_sec).toBeGreaterThanOrEqual(1);
      expect(row.duration_sec).toBeGreaterThanOrEqual(row.billable_sec);
      expect(row.bridged_at).not.toBeNull();
      const attempts = (await infra.pool.query('SELECT target_id, status FROM bridge_attempts WHERE call_id = $1', [row.id])).rows;
      expect(attempts).toEqual([{ target_id: 'a', status: 'bridged' }]);
    });

    it('fails over to the second buyer when the first is busy', async () => {
      harness.setBuyer(BUYER_A, { kind: 'busy', afterMs: 10 });
      const ani = nextAni();
      const result = await harness.placeCall({ ani, dnis: DID, hangupAfterBridgeMs: 100 }).finished;
      expect(result.bridgeTargets.map((t) => t.includes(BUYER_A) ? 'A' : t.includes(BUYER_B) ? 'B' : t)).toEqual(['A', 'B']);
      expect(result.bridgedTo).toContain(BUYER_B);
      const row = await callRow(ani);
      expect(row).toMatchObject({ outcome: 'bridged', winner_target_id: 'b' });
      const attempts = (await infra.pool.query('SELECT target_id, status, cause FROM bridge_attempts WHERE call_id = $1 ORDER BY attempt_no', [row.id])).rows;
      expect(attempts).toEqual([
        { target_id: 'a', status: 'busy', cause: 'USER_BUSY' },
        { target_id: 'b', status: 'bridged', cause: null },
      ]);
    });

    it('failing over, passes a buyer whose concurrency cap is full and records it as an attempt with the cap', async () => {
      harness.setBuyer(BUYER_A, { kind: 'busy', afterMs: 10 });
      harness.setBuyer(BUYER_C, { kind: 'answer', afterMs: 20 });
      // The first call fails over from A to B and stays up, filling B's one slot.
      const holderAni = nextAni();
      const holder = harness.placeCall({ ani: holderAni, dnis: CAPPED_DID, hangupAfterBridgeMs: 60_000 });
      await eventually(async () => (await node.caps.concurrentCalls('cap-b', Date.now())) === 1 || undefined, 'the first call to hold B');
      const ani = nextAni();
      const result = await harness.placeCall({ ani, dnis: CAPPED_DID, hangupAfterBridgeMs: 100 }).finished;
      expect(result.bridgedTo).toContain(BUYER_C);
      expect(result.bridgeTargets.some((t) => t.includes(BUYER_B))).toBe(false); // B was never rung
      const row = await callRow(ani);
      expect(row).toMatchObject({ outcome: 'bridged', winner_target_id: 'cap-c' });
      const attempts = (await infra.pool.query('SELECT attempt_no, target_id, status, cause FROM bridge_attempts WHERE call_id = $1 ORDER BY attempt_no', [row.id])).rows;
      expect(attempts).toEqual([
        { attempt_no: 1, target_id: 'cap-a', status: 'busy', cause: 'USER_BUSY' },
        { attempt_no: 2, target_id: 'cap-b', status: 'cap_reached', cause: 'cap_concurrency' },
        { attempt_no: 3, target_id: 'cap-c', status: 'bridged', cause: null },
      ]);
      holder.hangup();
      await holder.finished;
      expect((await callRow(holderAni)).winner_target_id).toBe('cap-b');
    });

    it('with no buyer left, plays a message and hangs up with the reason', async () => {
      harness.setBuyer(BUYER_A, { kind: 'fail', cause: 'UNALLOCATED_NUMBER' });
      harness.setBuyer(BUYER_B, { kind: 'no_answer' });
      const ani = nextAni();
      const result = await harness.placeCall({ ani, dnis: DID }).finished;
      expect(result.bridgedTo).toBeUndefined();
      expect(result.prompts).toHaveLength(1);
      expect(result.hangupCause).toBe('NORMAL_TEMPORARY_FAILURE');
      const row = await callRow(ani);
      expect(row).toMatchObject({ outcome: 'no_buyer_answered', end_reason: 'all_buyers_failed', winner_target_id: null });
    });

    it('when the caller hangs up during the auction, releases the caps and records the call', async () => {
      slowBidderMs = 600;
      const ani = nextAni();
      const result = await harness.placeCall({ ani, dnis: SLOW_DID, hangupAfterMs: 150 }).finished;
      expect(result.bridgeTargets).toEqual([]);
      const row = await callRow(ani);
      expect(row).toMatchObject({ outcome: 'abandoned', end_reason: 'caller_gone', hung_up_by: 'caller' });
      expect(await node.caps.concurrentCalls('slow-a', Date.now())).toBe(0);
      // the slot is really free: the next call takes it
      slowBidderMs = 0;
      const next = nextAni();
      expect((await harness.placeCall({ ani: next, dnis: SLOW_DID, hangupAfterBridgeMs: 50 }).finished).bridgedTo).toContain(BUYER_A);
    });

    it('reconnects when the control connection drops', async () => {
      harness.dropControlConnection();
      await eventually(async () => !node.switches[0]!.isConnected(), 'the adapter to notice the drop', 3_000);
      await eventually(async () => node.switches[0]!.isConnected(), 'the adapter to reconnect', 5_000);
      const ready = await fetch(`http://127.0.0.1:${node.httpPort}/ready`);
      expect(ready.status).toBe(200);
    });

    it('a bridged call keeps going while the control connection drops and comes back, and is recorded when it ends', async () => {
      const ani = nextAni();
      let callId: string | undefined;
      let bridged = false;
      let endedEarly = false;
      const off = node.events.on((e) => {
        if (e.type === 'call.started' && e.ani === ani) callId = e.callId;
        else if (e.callId !== callId) return;
        else if (e.type === 'call.bridged') bridged = true;
        else if (e.type === 'call.ended') endedEarly = true;
      });
      try {
        const call = harness.placeCall({ ani, dnis: DID, hangupAfterBridgeMs: 1500 });
        await eventually(async () => bridged, 'the call to be bridged');
        harness.dropControlConnection();
        await eventually(async () => !node.switches[0]!.isConnected(), 'the adapter to notice the drop', 3_000);
        await eventually(async () => node.switches[0]!.isConnected(), 'the adapter to reconnect', 5_000);
        expect(endedEarly).toBe(false); // the bridge outlived the connection
        const result = await call.finished;
        expect(result.bridgedTo).toContain(BUYER_A);
        const row = await callRow(ani);
        expect(row).toMatchObject({ id: callId, outcome: 'bridged', winner_target_id: 'a', hung_up_by: 'caller' });
        expect(row.billable_sec).toBeGreaterThanOrEqual(1);
        const attempts = (await infra.pool.query('SELECT target_id, status FROM bridge_attempts WHERE call_id = $1', [row.id])).rows;
        expect(attempts).toEqual([{ target_id: 'a', status: 'bridged' }]);
        await eventually(async () => (await node.caps.concurrentCalls('a', Date.now())) === 0, 'the concurrency slot to be released');
      } finally {
        off();
      }
    });

    describe('calls to consumers', () => {
      const CONSUMER = '+13125550199'; // Chicago
      const post = (body: object) =>
        fetch(`http://127.0.0.1:${node.httpPort}/v1/outbound-calls`, {
          method: 'POST',
          headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const pinClock = (iso: string) => {
        clockOffsetMs = new Date(iso).getTime() - Date.now();
      };

      it('are refused outside calling hours in the consumer zone, and nothing is dialled', async () => {
        pinClock('2026-11-25T04:00:00Z'); // 22:00 in Chicago
        const before = harness.originateCount();
        const r = await post({ campaignId: 'main', to: CONSUMER });
        expect(r.status).toBe(422);
        const body = (await r.json()) as { error: { code: string; reasons: string[]; callId: string } };
        expect(body.error.code).toBe('call_blocked');
        expect(body.error.reasons).toEqual(['outside_calling_hours']);
        expect(harness.originateCount()).toBe(before);
        await node.recorder!.drain();
        const audit = (await infra.pool.query('SELECT decision FROM compliance_audit_log WHERE call_id = $1', [body.error.callId])).rows;
        expect(audit).toEqual([{ decision: 'block' }]);
      });

      it('are placed inside calling hours, and an answered consumer is auctioned and bridged', async () => {
        pinClock('2026-11-24T16:00:00Z'); // 10:00 in Chicago
        harness.setConsumer(CONSUMER, { kind: 'answer', afterMs: 20, hangupAfterMs: 400 });
        const r = await post({ campaignId: 'main', to: CONSUMER, answerTimeoutSec: 10 });
        expect(r.status).toBe(202);
        const { callId } = (await r.json()) as { callId: string };
        const row = await eventually(async () => {
          await node.recorder!.drain();
          return (await infra.pool.query('SELECT * FROM calls WHERE id = $1 AND ended_at IS NOT NULL', [callId])).rows[0];
        }, 'the consumer call to be recorded', 8_000);
        expect(row).toMatchObject({ direction: 'outbound', ani: CONSUMER, campaign_id: 'main', outcome: 'bridged', winner_target_id: 'a' });
      });

      it('reject bad input with a clear error naming the field', async () => {
        const r = await post({ campaignId: 'main', to: 'not-a-number' });
        expect(r.status).toBe(400);
        expect(await r.json()).toMatchObject({ error: { code: 'validation_failed', field: 'to' } });
      });
    });
  });
}
