/**
 * The recorder copies the call journal into Postgres in batches: entries of one call may arrive in any order
 * and more than once, and one bad entry is set aside without holding back the rest of its batch.
 */
import { CallRecorder, JOURNAL_DEAD_STREAM } from '../../app/store/call-recorder';
import { JOURNAL_STREAM, RedisCallJournal, type CallIdentity, type JournalEntry } from '../../app/exchange/call-journal';
import { emptyExclusions, emptyRanking, type DecisionTrace } from '../../app/exchange/trace';
import { silentLogger } from '../../app/observability/logger';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';

let infra: TestInfra;
let recorder: CallRecorder;

beforeAll(async () => {
  infra = await createTestInfra('recorder');
  recorder = new CallRecorder(infra.pool, infra.redis, silentLogger(), { consumer: 'test', batchSize: 100 });
});

afterAll(async () => {
  await recorder.stop();
  await infra?.cleanup();
});

const identity = (callId: string): CallIdentity => ({
  callId,
  direction: 'inbound',
  ani: '+12025550123',
  dnis: '+18885550100',
  startedAt: '2026-11-24T10:00:00.000Z',
  switchName: 'freeswitch',
  switchCallId: `leg-${callId}`,
});

const trace = (callId: string): DecisionTrace => ({
  callId,
  decidedAt: '2026-11-24T10:00:00.002Z',
  direction: 'inbound',
  dnis: '+18885550100',
  ani: '+12025550123',
  caller: { ok: true, e164: '+12025550123' },
  ranked: emptyRanking(),
  excluded: emptyExclusions(),
  decisionUs: 420,
} as unknown as DecisionTrace);

const decided = (callId: string): JournalEntry => ({
  ...identity(callId),
  type: 'decided',
  campaignId: 'camp',
  sellerAccountId: 'seller',
  outcome: 'routed',
  winnerTargetId: 't1',
  winnerBuyerId: 'b1',
  priceCents: 1500,
  decidedAt: '2026-11-24T10:00:00.002Z',
  trace: trace(callId),
  audit: { decision: 'pass', reasons: [], checkedAt: '2026-11-24T10:00:00.001Z' },
});

const attempt = (callId: string, attemptNo: number, status: string, targetId: string): JournalEntry => ({
  ...identity(callId),
  type: 'attempt',
  attemptNo,
  targetId,
  buyerAccountId: `b-${targetId}`,
  destination: 'sip:buyer@example.com',
  attemptStartedAt: '2026-11-24T10:00:00.010Z',
  attemptEndedAt: '2026-11-24T10:00:03.000Z',
  status,
  priceCents: 1200,
});

const ended = (callId: string): JournalEntry => ({
  ...identity(callId),
  type: 'ended',
  outcome: 'bridged',
  endReason: 'caller_hangup',
  endedAt: '2026-11-24T10:01:03.000Z',
  answeredAt: '2026-11-24T10:00:03.000Z',
  bridgedAt: '2026-11-24T10:00:03.000Z',
  hangupCause: 'NORMAL_CLEARING',
  hungUpBy: 'caller',
  durationSec: 63,
  billableSec: 60,
  winnerTargetId: 't2',
  winnerBuyerId: 'b-t2',
  priceCents: 1200,
});

const append = async (...entries: Array<JournalEntry | string>): Promise<void> => {
  for (const e of entries) await infra.redis.xadd(JOURNAL_STREAM, '*', 'e', typeof e === 'string' ? e : JSON.stringify(e));
};

const call = async (id: string) => (await infra.pool.query('SELECT * FROM calls WHERE id = $1', [id])).rows[0];

it('the end wins over the decision whichever comes first, and repeats change nothing', async () => {
  // c1 in call order, c2 backwards, c3 twice over; all in one batch.
  await append(decided('c1'), attempt('c1', 1, 'busy', 't1'), attempt('c1', 2, 'bridged', 't2'), ended('c1'));
  await append(ended('c2'), attempt('c2', 2, 'bridged', 't2'), attempt('c2', 1, 'busy', 't1'), decided('c2'));
  await append(decided('c3'), ended('c3'), decided('c3'), ended('c3'), attempt('c3', 1, 'bridged', 't2'), attempt('c3', 1, 'bridged', 't2'));
  expect(await recorder.drain()).toBe(14);
  for (const id of ['c1', 'c2', 'c3']) {
    const row = await call(id);
    expect(row).toMatchObject({ outcome: 'bridged', winner_target_id: 't2', winner_buyer_id: 'b-t2', campaign_id: 'camp', decision_us: 420, duration_sec: 63, billable_sec: 60, hung_up_by: 'caller' });
    expect(Number(row.price_cents)).toBe(1200);
    expect(row.ended_at.toISOString()).toBe('2026-11-24T10:01:03.000Z');
  }
  const attempts = await infra.pool.query('SELECT call_id, attempt_no, status FROM bridge_attempts ORDER BY call_id, attempt_no');
  expect(attempts.rows.map((r) => `${r.call_id}/${r.attempt_no}:${r.status}`)).toEqual(['c1/1:busy', 'c1/2:bridged', 'c2/1:busy', 'c2/2:bridged', 'c3/1:bridged']);
  expect((await infra.pool.query('SELECT count(*)::int AS n FROM call_decisions')).rows[0].n).toBe(3);
  expect((await infra.pool.query('SELECT count(*)::int AS n FROM compliance_audit_log')).rows[0].n).toBe(3);

  // A decision delivered again after the end (another node's retry) does not undo the end.
  await append(decided('c1'));
  await recorder.drain();
  expect(await call('c1')).toMatchObject({ outcome: 'bridged', winner_target_id: 't2' });
});

it('a call written in one batch (one INSERT) ends up the same as one whose entries come in separate batches (INSERT, then UPDATEs)', async () => {
  await append(decided('one'), attempt('one', 1, 'bridged', 't2'), ended('one'));
  await recorder.drain();
  for (const e of [decided('many'), attempt('many', 1, 'bridged', 't2'), ended('many')]) {
    await append(e);
    await recorder.drain();
  }
  // The end first, then the decision: the end still wins.
  for (const e of [ended('late'), decided('late')]) {
    await append(e);
    await recorder.drain();
  }
  const { id: _one, switch_call_id: _s1, ...one } = await call('one');
  for (const other of ['many', 'late']) {
    const { id: _id, switch_call_id: _s, ...row } = await call(other);
    expect(row).toEqual(one);
  }
  expect(one).toMatchObject({ outcome: 'bridged', campaign_id: 'camp', seller_account_id: 'seller', winner_target_id: 't2', decision_us: 420, end_reason: 'caller_hangup', end_is_lower_bound: false });
  expect(one.decided_at.toISOString()).toBe('2026-11-24T10:00:00.002Z');
});

it("a node_lost close never replaces a call's real end (the node that journaled it died before leaving the live-call registry), but a real end replaces a node_lost close", async () => {
  const lost = (callId: string): JournalEntry => ({ ...(ended(callId) as Extract<JournalEntry, { type: 'ended' }>), outcome: 'node_lost', endReason: 'node_lost', endedAt: '2026-11-24T10:05:00.000Z', hungUpBy: 'unknown', billableSec: 0 });
  await append(decided('n1'), ended('n1'));
  await recorder.drain();
  await append(lost('n1'));
  await recorder.drain();
  expect(await call('n1')).toMatchObject({ outcome: 'bridged', end_reason: 'caller_hangup', billable_sec: 60 });
  // In one batch, in either order, the real end stands.
  await append(decided('n2'), ended('n2'), lost('n2'), decided('n3'), lost('n3'));
  await recorder.drain();
  expect(await call('n2')).toMatchObject({ outcome: 'bridged', billable_sec: 60 });
  expect(await call('n3')).toMatchObject({ outcome: 'node_lost', billable_sec: 0 });
  await append(ended('n3'));
  await recorder.drain();
  expect(await call('n3')).toMatchObject({ outcome: 'bridged', billable_sec: 60 });
});

it('a bad entry goes to the dead-letter stream and the rest of its batch is written', async () => {
  const badTime = { ...decided('d2'), decidedAt: 'not a time' };
  await append(decided('d1'), 'not json', JSON.stringify(null), badTime as JournalEntry, ended('d1'), decided('d3'));
  expect(await recorder.drain()).toBe(6); // every entry handled: three written, three set aside
  expect(await call('d1')).toMatchObject({ outcome: 'bridged' });
  expect(await call('d3')).toMatchObject({ outcome: 'routed' });
  expect(await call('d2')).toBeUndefined();
  const dead = await infra.redis.xrange(JOURNAL_DEAD_STREAM, '-', '+');
  const why = dead.map(([, f]) => f[f.indexOf('why') + 1]);
  expect(why).toHaveLength(3);
  expect(why[0]).toMatch(/unparseable/);
  expect(why[1]).toMatch(/not a journal entry/);
  expect(why[2]).toMatch(/invalid input syntax for type timestamp/);
  expect(await infra.redis.xlen(JOURNAL_STREAM)).toBe(0);
});

it('a trace holding a NUL character is set aside, as when traces were jsonb; text that only reads \\u0000 is stored as sent', async () => {
  const deadBefore = await infra.redis.xlen(JOURNAL_DEAD_STREAM);
  const withNul = decided('nul1') as Extract<JournalEntry, { type: 'decided' }>;
  const looksLikeNul = decided('nul2') as Extract<JournalEntry, { type: 'decided' }>;
  await append(
    { ...withNul, trace: { ...withNul.trace, caller: { ok: true, e164: '+12025550123', name: 'A\u0000B' } } as DecisionTrace },
    { ...looksLikeNul, trace: { ...looksLikeNul.trace, caller: { ok: true, e164: '+12025550123', name: 'A\\u0000B' } } as DecisionTrace },
    decided('nul3'),
  );
  expect(await recorder.drain()).toBe(3);
  const dead = (await infra.redis.xrange(JOURNAL_DEAD_STREAM, '-', '+')).slice(deadBefore);
  expect(dead).toHaveLength(1);
  expect(dead[0]![1][dead[0]![1].indexOf('why') + 1]).toMatch(/nul1.*u0000/);
  const { rows } = await infra.pool.query<{ call_id: string; name: string | null }>("SELECT call_id, trace->'caller'->>'name' AS name FROM call_decisions WHERE call_id IN ('nul1', 'nul2', 'nul3') ORDER BY call_id");
  expect(rows).toEqual([{ call_id: 'nul2', name: 'A\\u0000B' }, { call_id: 'nul3', name: null }]);
});

it('entries read while Postgres refuses writes stay pending and are written once it accepts them again', async () => {
  const loop = new CallRecorder(infra.pool, infra.redis, silentLogger(), { consumer: 'loop', batchSize: 100, blockMs: 50, gatherMs: 1 });
  const deadBefore = await infra.redis.xlen(JOURNAL_DEAD_STREAM);
  await infra.pool.query('ALTER TABLE calls RENAME TO calls_away');
  try {
    await loop.start();
    await append(decided('r-pg-1'), ended('r-pg-1'));
    // The loop reads them and fails to write them (and retries with backoff): they stay in the journal, pending.
    await eventually(async () => (await infra.redis.xpending(JOURNAL_STREAM, 'recorder'))[0] === 2, 'the loop never read the entries');
    expect(await infra.redis.xlen(JOURNAL_STREAM)).toBe(2);
  } finally {
    await infra.pool.query('ALTER TABLE calls_away RENAME TO calls');
  }
  // The loop's next try re-reads its own pending entries (no new ones arrive to carry them) and writes them.
  await eventually(async () => (await infra.redis.xlen(JOURNAL_STREAM)) === 0, 'the pending entries were never written');
  await loop.stop();
  expect(await call('r-pg-1')).toMatchObject({ outcome: 'bridged', winner_target_id: 't2', billable_sec: 60 });
  expect(await infra.redis.xlen(JOURNAL_DEAD_STREAM)).toBe(deadBefore);
});

/** A decision over a ranking as the router makes it: shared frozen columns, a winner, a candidate passed over. */
const rankedTrace = (callId: string, sources: string[]): DecisionTrace => {
  const n = sources.length;
  const col = <T>(f: (i: number) => T): T[] => Object.freeze(Array.from({ length: n }, (_, i) => f(i))) as T[];
  return {
    ...trace(callId),
    ranked: {
      targetId: col((i) => `t${i}`), buyerAccountId: col((i) => `b${i}`), bidCents: col((i) => 2000 - i), score: col((i) => 1999.9 - i / 3),
      priceCents: col((i) => 1900 - i), source: Object.freeze(sources.slice()) as string[],
      status: Array.from({ length: n }, (_, i) => (i === 0 ? 'cap_reached' : i === 1 ? 'won' : 'lost')),
      reason: Array.from({ length: n }, (_, i) => (i === 0 ? 'cap_concurrency' : null)),
    },
    excluded: { targetId: ['x1'], buyerAccountId: ['bx'], bidCents: [0], source: ['rtb'], reason: ['bid_timeout'], detail: ['no answer within 300 ms'] },
    outcome: 'route',
    winnerTargetId: 't1',
    priceCents: 1899,
  } as DecisionTrace;
};

it("a decision the call node journals (its trace sent compact) is stored with the same trace as one journaled whole by an older node", async () => {
  const journal = new RedisCallJournal(infra.redis);
  const sent = new Map<string, DecisionTrace>();
  for (const [id, sources] of [['w-new', Array(40).fill('standing')], ['w-mixed', ['standing', 'rtb', 'standing']], ['w-empty', []]] as Array<[string, string[]]>) {
    const t = rankedTrace(id, sources);
    sent.set(id, t);
    await journal.append({ ...(decided(id) as Extract<JournalEntry, { type: 'decided' }>), trace: t });
  }
  // The same decision twice over the same (cached) ranking columns: the second still carries its own marks.
  const again = rankedTrace('w-again', Array(40).fill('standing'));
  const again2 = { ...again, callId: 'w-again2', ranked: { ...sent.get('w-new')!.ranked, status: again.ranked.status.map((): DecisionTrace['ranked']['status'][number] => 'lost'), reason: again.ranked.reason.map(() => null) } };
  again2.ranked.status[5] = 'won';
  sent.set('w-again2', again2);
  await journal.append({ ...(decided('w-again2') as Extract<JournalEntry, { type: 'decided' }>), trace: again2 });
  // What an older node wrote: the whole trace in the entry.
  sent.set('w-old', rankedTrace('w-old', Array(40).fill('standing')));
  await append({ ...(decided('w-old') as Extract<JournalEntry, { type: 'decided' }>), trace: sent.get('w-old')! });

  const raw = (await infra.redis.xrange(JOURNAL_STREAM, '-', '+')).map(([, f]) => f[1]!);
  expect(raw[0]!.length).toBeLessThan(raw[4]!.length - 600); // the compact form is smaller (40 x "lost", "standing", null)
  expect(await recorder.drain()).toBe(5);
  const { rows } = await infra.pool.query<{ call_id: string; trace: DecisionTrace }>("SELECT call_id, trace FROM call_decisions WHERE call_id LIKE 'w-%'");
  expect(rows).toHaveLength(5);
  for (const r of rows) expect(r.trace).toEqual(JSON.parse(JSON.stringify(sent.get(r.call_id))));
  expect(rows.find((r) => r.call_id === 'w-again2')!.trace.ranked.status.filter((s) => s !== 'lost')).toEqual(['won']);
});
