import type { ExchangeNode } from '../../app/exchange-node';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { switchScenarios } from './scenarios';
import { AsteriskHarness } from './asterisk-harness';

switchScenarios('asterisk', () => new AsteriskHarness());
// The same calls with the adapter on ari-client (ARI_REST_CLIENT=ari-client), the other REST client it can use.
switchScenarios('asterisk (ari-client)', () => new AsteriskHarness({}, 'ari-client'));

/** What only ARI can do to a call: a channel that vanishes, events lost while the WebSocket is down. */
describe('asterisk: calls survive what ARI can do to them', () => {
  let infra: TestInfra;
  let harness: AsteriskHarness;
  let node: ExchangeNode;
  const DID = '+18885550410';
  const BUYER = '+15551230011';
  let n = 0;
  const nextAni = () => `+1813555${String(3000 + ++n)}`;

  const endedRow = async (ani: string) =>
    eventually(async () => {
      await node.recorder!.drain();
      return (await infra.pool.query('SELECT * FROM calls WHERE ani = $1 AND ended_at IS NOT NULL', [ani])).rows[0];
    }, `the call from ${ani} to be recorded as ended`, 8_000);

  const nothingLeftOnTheSwitch = () =>
    eventually(async () => harness.nothingLeft(), 'no channel left on the switch, nor any bridge but empty idle ones');

  beforeAll(async () => {
    infra = await createTestInfra('e2e_asterisk_ari');
    await seedAccount(infra.pool, { id: 'seller', kind: 'seller' });
    await seedAccount(infra.pool, { id: 'buyer', kind: 'buyer' });
    await seedCampaign(infra.pool, { id: 'ari', sellerId: 'seller', dids: [DID] });
    await seedTarget(infra.pool, { id: 't', buyerId: 'buyer', campaignId: 'ari', bidCents: 1500, destination: BUYER, answerTimeoutSec: 5, capConcurrency: 3 });
    harness = new AsteriskHarness();
    node = await harness.start(infra);
    await eventually(async () => node.switches.every((s) => s.isConnected()), 'the ARI connection');
  });

  afterAll(async () => {
    await harness?.stop();
    await infra?.cleanup();
  });

  it('a caller channel that vanishes while the buyer rings: the call is recorded, the buyer leg hung up, no bridge left', async () => {
    harness.setBuyer(BUYER, { kind: 'answer', afterMs: 400 });
    const ani = nextAni();
    const call = harness.peer.placeCall({ ani, dnis: DID });
    const callerId = call.channel.id;
    await eventually(async () => harness.peer.originated.some((o) => o.appArgs[1] === callerId), 'the buyer leg to be dialled');
    expect(harness.peer.vanish(callerId)).toBe(true);
    const row = await endedRow(ani);
    expect(row).toMatchObject({ outcome: 'abandoned', end_reason: 'caller_gone', winner_target_id: null, bridged_at: null });
    const attempts = (await infra.pool.query('SELECT status FROM bridge_attempts WHERE call_id = $1', [row.id])).rows;
    expect(attempts).toEqual([{ status: 'caller_gone' }]);
    await nothingLeftOnTheSwitch();
    expect(await node.caps.concurrentCalls('t', Date.now())).toBe(0);
  });

  it('a bridged call whose end happens while the events WebSocket is down is recorded once the adapter reconnects and reconciles', async () => {
    harness.setBuyer(BUYER, { kind: 'answer', afterMs: 20 });
    const ani = nextAni();
    const call = harness.peer.placeCall({ ani, dnis: DID });
    await eventually(async () => call.record.bridgedWith.length > 0, 'the call to be bridged');
    // The switch stops taking our WebSocket; the call goes on, then the caller hangs up unseen.
    harness.peer.setUnreachable(true);
    await eventually(async () => !node.switches[0]!.isConnected(), 'the adapter to notice the drop');
    expect(harness.peer.hangupFarEnd(call.channel.id)).toBe(true);
    await call.finished;
    harness.peer.setUnreachable(false);
    await eventually(async () => node.switches[0]!.isConnected(), 'the adapter to reconnect', 5_000);
    const row = await endedRow(ani);
    expect(row).toMatchObject({ outcome: 'bridged', winner_target_id: 't' });
    expect(row.bridged_at).not.toBeNull();
    await nothingLeftOnTheSwitch();
    expect(await node.caps.concurrentCalls('t', Date.now())).toBe(0);
  });

  it('while ARI is unreachable, /ready and the metrics say so and a new caller gets the dialplan fallback; both recover', async () => {
    const base = `http://127.0.0.1:${node.httpPort}`;
    const readiness = async () => {
      const r = await fetch(`${base}/ready`);
      return { status: r.status, body: (await r.json()) as { dependencies: Record<string, string> } };
    };
    const switchGauge = async () => /^callx_dependency_up\{dependency="asterisk"\} (\d+)$/m.exec(await (await fetch(`${base}/metrics`)).text())?.[1];

    harness.peer.setUnreachable(true);
    await eventually(async () => !node.switches[0]!.isConnected(), 'the adapter to notice the drop');
    // A scrape alone (no /ready call) sees the switch down.
    await eventually(async () => (await switchGauge()) === '0', 'the dependency gauge to drop to 0', 3_000);
    const down = await readiness();
    expect(down.status).toBe(503);
    expect(down.body.dependencies).toMatchObject({ asterisk: 'down', postgres: 'up', redis: 'up' });

    // Stasis() fails at once with no app connected: the dialplan's fallback takes the caller, nothing is dialled.
    const dialledBefore = harness.originateCount();
    const ani = nextAni();
    const call = harness.peer.placeCall({ ani, dnis: DID });
    const record = await call.finished;
    expect(record).toMatchObject({ stasis: 'failed', endedBy: 'fallback' });
    expect(harness.originateCount()).toBe(dialledBefore);

    harness.peer.setUnreachable(false);
    await eventually(async () => node.switches[0]!.isConnected(), 'the adapter to reconnect', 5_000);
    await eventually(async () => (await switchGauge()) === '1', 'the dependency gauge to come back to 1', 3_000);
    const up = await readiness();
    expect(up.status).toBe(200);
    expect(up.body.dependencies.asterisk).toBe('up');
  });
});
