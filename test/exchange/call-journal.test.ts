import Redis from 'ioredis';
import { JOURNAL_STREAM, RedisCallJournal, type CallIdentity, type JournalEntry } from '../../app/exchange/call-journal';
import { createTestInfra, TEST_REDIS_URL, type TestInfra } from '../support/infra';

/**
 * The journal batches its writes (entries appended in one turn of the event loop leave in one pipeline): every
 * entry must still land, in the order appended, and each append must settle with its own outcome.
 */
let infra: TestInfra;

beforeAll(async () => {
  infra = await createTestInfra('call_journal', { migrate: false });
});
afterAll(async () => {
  await infra?.cleanup();
});

const identity = (n: number): CallIdentity => ({
  callId: `call-${n}`, direction: 'inbound', ani: '+18135550000', dnis: '+18885550100', startedAt: new Date(0).toISOString(), switchName: 'freeswitch', switchCallId: `u-${n}`,
});
const ended = (n: number): JournalEntry => ({
  ...identity(n), type: 'ended', outcome: 'bridged', endReason: 'caller_hangup', endedAt: new Date(1000).toISOString(), hangupCause: 'NORMAL_CLEARING', hungUpBy: 'caller', durationSec: 1, billableSec: 1,
});
const decided = (n: number): JournalEntry => ({
  ...identity(n), type: 'decided', outcome: 'rejected', rejectReason: 'unknown_number', decidedAt: new Date(0).toISOString(),
  trace: { callId: `call-${n}` } as unknown as Extract<JournalEntry, { type: 'decided' }>['trace'],
});

it('writes every entry appended in one turn, decisions and ends mixed, in the order appended', async () => {
  const journal = new RedisCallJournal(infra.redis);
  const entries = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? decided(i) : ended(i)));
  await Promise.all(entries.map((e) => journal.append(e)));
  const stored = (await infra.redis.xrange(JOURNAL_STREAM, '-', '+')).map(([, f]) => JSON.parse(f[1]!) as JournalEntry);
  expect(stored.map((e) => [e.type, e.callId])).toEqual(entries.map((e) => [e.type, e.callId]));
});

it('an entry is on its way to Redis before anything the caller does after a tick, such as a switch command', async () => {
  const journal = new RedisCallJournal(infra.redis);
  await infra.redis.del(JOURNAL_STREAM);
  let lenSeenBySwitchCommand = -1;
  const acked = journal.append(decided(1000));
  // What the switch socket does: flush on a nextTick queued after the append.
  await new Promise<void>((resolve) => process.nextTick(() => {
    // XLEN sent on the same connection after the XADD: Redis answers in order, so it sees the entry.
    infra.redis.xlen(JOURNAL_STREAM).then((n) => { lenSeenBySwitchCommand = n; resolve(); }, resolve);
  }));
  await acked;
  expect(lenSeenBySwitchCommand).toBe(1);
});

it('each append of a batch fails with the connection, so the call path can retry and log it', async () => {
  const dead = new Redis(TEST_REDIS_URL, { keyPrefix: infra.prefix, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  dead.on('error', () => undefined); // the refusal is what this test expects
  const journal = new RedisCallJournal(dead);
  const results = await Promise.allSettled([journal.append(decided(1)), journal.append(ended(2)), journal.append(ended(3))]);
  expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
  dead.disconnect();
});
