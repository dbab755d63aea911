/**
 * Issue 12, "a graceful stop never cuts a call or ends its record early", through both switch peers and real
 * nodes: node A bridges a call and is stopped as SIGTERM stops it (node.stop(), the adapter's bounded drain).
 * - The drain ends before the call: the call goes on talking on the switch (caller, buyer and bridge untouched),
 *   node B adopts it, and when the caller hangs up later its record has the true duration and billable seconds, it
 *   is billed once and the target's concurrency slot is free.
 * - The call ends within the drain: A records it itself, normally; B finds nothing to adopt.
 * Real sockets (ESL, ARI), real Postgres and Redis, the node's own recorder and billing worker.
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { AsteriskHarness } from './asterisk-harness';
import { FreeSwitchHarness } from './freeswitch-harness';

const DID = '+18885550930';
const BUYER = '+15551230931';
/** Long enough that only the heartbeat deleted at stop lets node B in (not its expiry). */
const NODE_ENV = { NODE_HEARTBEAT_TTL_MS: '60000', SWEEP_INTERVAL_MS: '500' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One bridged call as the test sees it on the peer, whichever the switch. */
interface TalkingCall {
  ani: string;
  /** when the peer bridged caller and buyer (ms since the epoch) */
  bridgedAt: number;
  /** the caller hangs up; answers when (ms since the epoch) */
  hangUp(): number;
  /** still talking on the switch: caller and buyer up, in their bridge */
  stillTalking(): boolean;
  /** what the nodes asked of the switch that would change this call, since the call was bridged and until now */
  changesAfterBridge(): string[];
  /** the end the peer saw: who ended it and when */
  finished: Promise<{ endedBy: string | undefined; endedAt: number }>;
}

interface SwitchUnderTest {
  name: string;
  harness(drainMs: number): FreeSwitchHarness | AsteriskHarness;
  placeBridgedCall(h: FreeSwitchHarness | AsteriskHarness, ani: string): Promise<TalkingCall>;
}

const freeswitch: SwitchUnderTest = {
  name: 'freeswitch',
  harness: (drainMs) => new FreeSwitchHarness(NODE_ENV, { stopDrainMs: drainMs }),
  async placeBridgedCall(hh, ani) {
    const h = hh as FreeSwitchHarness;
    h.peer.buyers.set(BUYER, { kind: 'answer', afterMs: 20 });
    const session = h.peer.placeCall({ app: { host: '127.0.0.1', port: h.adapter!.port }, ani, dnis: DID, variables: h.dialplanVariables });
    const bridge = await eventually(async () => session.record.bridges.find((b) => b.bridgedAt !== undefined), `the call from ${ani} to be bridged`);
    const inboundCommands = () => [...h.peer.inbound.connections].flatMap((c) => c.commands.map((cmd) => cmd.line));
    const before = new Set(inboundCommands());
    return {
      ani,
      bridgedAt: bridge.bridgedAt!,
      hangUp: () => {
        const at = Date.now();
        session.callerHangup();
        return at;
      },
      stillTalking: () => session.record.hangupAt === undefined && bridge.endedAt === undefined,
      changesAfterBridge: () => inboundCommands().filter((l) => !before.has(l) && /uuid_(kill|transfer|bridge|break|park|broadcast|setvar)|hupall/.test(l)),
      finished: session.finished.then((r) => ({ endedBy: r.bridges.find((b) => b.result === 'SUCCESS')?.endedBy, endedAt: bridge.endedAt ?? r.hangupAt! })),
    };
  },
};

const asterisk: SwitchUnderTest = {
  name: 'asterisk',
  harness: (drainMs) => new AsteriskHarness(NODE_ENV, 'http', { stopDrainMs: drainMs }),
  async placeBridgedCall(hh, ani) {
    const h = hh as AsteriskHarness;
    h.peer.buyers.set(BUYER, { kind: 'answer', afterMs: 20 });
    const call = h.peer.placeCall({ ani, dnis: DID });
    await eventually(async () => call.record.bridgedWith.length > 0, `the call from ${ani} to be bridged`, 5_000);
    const bridgedAt = Date.now();
    const buyerId = call.record.bridgedWith[0] as string;
    const from = h.peer.requests.length;
    let endedAt = 0;
    return {
      ani,
      bridgedAt,
      hangUp: () => {
        endedAt = Date.now();
        h.peer.hangupFarEnd(call.channelId);
        return endedAt;
      },
      stillTalking: () => h.peer.bridges().some((b) => b.channels.includes(call.channelId) && b.channels.includes(buyerId)) && h.peer.channel(call.channelId)?.inStasis === true,
      changesAfterBridge: () =>
        h.peer.requests.slice(from).filter((r) => r.method !== 'GET' && (r.path.includes(call.channelId) || r.path.includes(buyerId) || r.path.startsWith('/ari/bridges/'))).map((r) => `${r.method} ${r.path}`),
      finished: call.finished.then((r) => ({ endedBy: r.endedBy, endedAt })),
    };
  },
};

describe.each([freeswitch, asterisk])('$name: a graceful stop with a call bridged', (sw) => {
  let infra: TestInfra;
  let harness: FreeSwitchHarness | AsteriskHarness | undefined;
  let n = 0;
  const nextAni = () => `+1813555${String((sw.name === 'freeswitch' ? 9300 : 9400) + ++n)}`;

  beforeAll(async () => {
    infra = await createTestInfra(`e2e_graceful_stop_${sw.name}`);
    await seedAccount(infra.pool, { id: 'seller', kind: 'seller' });
    await seedAccount(infra.pool, { id: 'buyer', kind: 'buyer' });
    await seedCampaign(infra.pool, { id: 'stop', sellerId: 'seller', dids: [DID], routing: 'first_price' });
    await seedTarget(infra.pool, { id: 't', buyerId: 'buyer', campaignId: 'stop', bidCents: 900, destination: BUYER, capConcurrency: 5, convertOnSeconds: 1 });
  });

  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
  });

  afterAll(async () => {
    await infra?.cleanup();
  });

  const slots = (node: ExchangeNode) => node.caps.concurrentCalls('t', Date.now());
  const callRow = async (ani: string) => (await infra.pool.query('SELECT * FROM calls WHERE ani = $1', [ani])).rows[0];
  const endedRow = (node: ExchangeNode, ani: string) =>
    eventually(async () => {
      await node.recorder!.drain();
      const row = await callRow(ani);
      return row?.ended_at ? row : undefined;
    }, `the call from ${ani} to be recorded as ended`, 10_000);
  const billing = async (callId: string) => ({
    billing: (await infra.pool.query('SELECT 1 FROM call_billing WHERE call_id = $1', [callId])).rowCount,
    ledger: (await infra.pool.query("SELECT count(*)::int AS n FROM ledger_transactions WHERE call_id = $1 AND kind = 'call'", [callId])).rows[0].n as number,
  });
  const billedOnce = async (callId: string) => {
    await eventually(async () => (await billing(callId)).billing === 1, `call ${callId} to be billed`, 10_000);
    await sleep(300); // a second posting would show by now
    expect(await billing(callId)).toEqual({ billing: 1, ledger: 1 });
  };
  const seconds = (ms: number) => ms / 1000;

  it('the drain ends before the call: the call goes on untouched, another node adopts it and records its true duration, billed once, its slot freed', async () => {
    const h = (harness = sw.harness(300));
    const a = await h.start(infra);
    await eventually(async () => a.switches.every((s) => s.isConnected()), 'node A connected to the switch');
    const ani = nextAni();
    const call = await sw.placeBridgedCall(h, ani);
    const callId = (await eventually(async () => {
      await a.recorder!.drain();
      return callRow(ani);
    }, 'the call to be in the record')).id as string;
    expect(await slots(a)).toBe(1);
    await sleep(1_500); // it talks on A first: a record counting from the adoption would be short by this much

    const stopAt = Date.now();
    await a.stop();
    expect(Date.now() - stopAt).toBeLessThan(5_000); // the drain (300 ms) is bounded: the stop does not wait for the call
    expect(call.stillTalking()).toBe(true);
    expect((await callRow(ani)).ended_at).toBeNull(); // no early end in the record

    const b = await h.startNode(infra);
    await eventually(async () => b.flow.isRunning(callId), 'node B to adopt the call', 10_000);
    await sleep(1_500); // the call talks on, adopted
    expect(call.stillTalking()).toBe(true);
    expect((await callRow(ani)).ended_at).toBeNull();
    expect(call.changesAfterBridge()).toEqual([]); // neither node touched caller, buyer or bridge

    const hungUpAt = call.hangUp();
    const end = await call.finished;
    expect(end.endedBy).toBe('caller');
    const row = await endedRow(b, ani);
    const trueBillable = seconds(hungUpAt - call.bridgedAt);
    expect(trueBillable).toBeGreaterThan(3);
    expect(row).toMatchObject({ id: callId, outcome: 'bridged', end_reason: 'caller_hangup', hung_up_by: 'caller', winner_target_id: 't' });
    expect(Math.abs(row.billable_sec - trueBillable)).toBeLessThanOrEqual(1);
    expect(Math.abs(new Date(row.ended_at).getTime() - hungUpAt)).toBeLessThan(1_000);
    expect(Math.abs(row.duration_sec - seconds(hungUpAt - new Date(row.started_at).getTime()))).toBeLessThanOrEqual(1);
    await billedOnce(callId);
    await eventually(async () => (await slots(b)) === 0, 'the concurrency slot to be free');
    expect(await b.registry.own()).toEqual([]);
  });

  it('the call ends within the drain: the stopping node records it itself, and no other node adopts or closes it', async () => {
    const h = (harness = sw.harness(5_000));
    const a = await h.start(infra);
    await eventually(async () => a.switches.every((s) => s.isConnected()), 'node A connected to the switch');
    const ani = nextAni();
    const call = await sw.placeBridgedCall(h, ani);
    await sleep(1_200);

    const stopping = a.stop();
    await sleep(300);
    expect(call.stillTalking()).toBe(true); // the drain waits for it
    const hungUpAt = call.hangUp();
    await stopping;
    expect((await call.finished).endedBy).toBe('caller');
    // A wrote the end before its stop returned: nothing is left for anyone to adopt.
    const row = await callRow(ani);
    expect(row).toMatchObject({ outcome: 'bridged', end_reason: 'caller_hangup', hung_up_by: 'caller', winner_target_id: 't' });
    expect(Math.abs(row.billable_sec - seconds(hungUpAt - call.bridgedAt))).toBeLessThanOrEqual(1);
    expect(row.billable_sec).toBeGreaterThanOrEqual(1);

    const b = await h.startNode(infra); // its billing worker bills what A's stop left queued, if anything
    const report = await b.sweeper.sweep();
    expect(report).toMatchObject({ adopted: 0, closed: 0, released: 0 });
    expect(b.flow.isRunning(row.id)).toBe(false);
    await billedOnce(row.id);
    expect(await slots(b)).toBe(0);
    expect((await callRow(ani)).outcome).toBe('bridged'); // not closed again as node_lost
  });
});
