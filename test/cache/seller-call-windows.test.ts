/**
 * A fraud job's seller hours, counted in one script (SellerCallWindows.recordAndCount), answer what the rules say
 * call by call, in the job's order: each call joins its seller's sets by its start, entries older than the three
 * hours kept leave, and the hour before its start is counted. Checked against a model of those rules written here,
 * on calls some of which are short, some older than the keep window, out of start order, one repeated.
 */
import { SellerCallWindows, type SellerCall, type SellerHour } from '../../app/cache/seller-call-windows';
import { createTestInfra, type TestInfra } from '../support/infra';

const HOUR = 3_600_000;
const KEEP = 3 * HOUR;

let infra: TestInfra;

beforeAll(async () => {
  infra = await createTestInfra('seller_call_windows', { migrate: false });
});
afterAll(async () => {
  await infra?.cleanup();
});

/** The rules, one call at a time, over plain maps: per seller and set, call id -> start. */
function model(calls: readonly SellerCall[]): { hours: SellerHour[]; sets: Map<string, Map<string, number>> } {
  const sets = new Map<string, Map<string, number>>();
  const set = (key: string) => sets.get(key) ?? sets.set(key, new Map()).get(key)!;
  const hours = calls.map((c) => {
    const ended = set(`ended:${c.sellerId}`);
    const short = set(`short:${c.sellerId}`);
    ended.set(c.callId, c.startedAtMs);
    if (c.short) short.set(c.callId, c.startedAtMs);
    const inHour = (s: Map<string, number>) => {
      for (const [id, at] of s) if (at < c.startedAtMs - KEEP) s.delete(id);
      return [...s.values()].filter((at) => at > c.startedAtMs - HOUR && at <= c.startedAtMs).length;
    };
    return { calls: inHour(ended), short: inHour(short) };
  });
  return { hours, sets };
}

it('counts each call\'s seller hour in the job\'s order, as the rules do one call at a time, and keeps what they keep', async () => {
  const now = Date.now();
  const calls: SellerCall[] = [];
  // Two sellers' calls over five hours (so some fall out of the hour and some out of the three hours kept), in an
  // order that is not their starts' order, a third of them short, and one call twice (a retried job).
  for (let i = 0; i < 60; i++) {
    calls.push({ sellerId: i % 2 === 0 ? 'even' : 'odd', callId: `call-${i}`, startedAtMs: now - 5 * HOUR + ((i * 37) % 60) * 300_000, short: i % 3 === 0 });
  }
  calls.push(calls[10]!);
  const expected = model(calls);
  // In two jobs, as the worker sends them: the second sees what the first left.
  const got = [...(await new SellerCallWindows(infra.redis).recordAndCount(calls.slice(0, 25))), ...(await new SellerCallWindows(infra.redis).recordAndCount(calls.slice(25)))];
  expect(got).toEqual(expected.hours);
  expect(got.some((h) => h.short > 0 && h.calls > h.short)).toBe(true);
  expect(got.some((h, i) => h.calls < i / 2)).toBe(true); // some calls fell out of the hour or the kept window
  for (const seller of ['even', 'odd']) {
    for (const set of ['ended', 'short']) {
      const key = `fraud:seller-${set}:${seller}`;
      const members = await infra.redis.zrange(key, '0', '-1', 'WITHSCORES');
      const want = [...(expected.sets.get(`${set}:${seller}`) ?? new Map<string, number>())].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)).flatMap(([id, at]) => [id, String(at)]);
      expect(members).toEqual(want);
      expect(await infra.redis.pttl(key)).toBeGreaterThan(KEEP - 60_000);
    }
  }
});

it('an empty job sends nothing', async () => {
  expect(await new SellerCallWindows(infra.redis).recordAndCount([])).toEqual([]);
});
