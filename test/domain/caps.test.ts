import { capCounters } from '../../app/domain/caps';
import type { BuyerTarget } from '../../app/domain/model';

const target = (caps: BuyerTarget['caps'], timeZone?: string): BuyerTarget => ({
  id: 't1', buyerAccountId: 'b1', campaignId: 'c1', name: 't', active: true, bidCents: 100, destination: 'sip:x@y',
  answerTimeoutSec: 20, targeting: {}, caps, qualityScore: 1, priority: 1, weight: 1, convertOnSeconds: 60,
  schedule: timeZone ? { timeZone, hours: {} } : undefined,
});

describe('capCounters', () => {
  it('no caps, no counters', () => {
    expect(capCounters(target({}), new Date('2026-01-01T00:00:00Z'))).toEqual([]);
  });

  it.each([
    // 2026-03-01 03:30 UTC is still Feb 28 in New York: the buyer's day and month are its own
    { now: '2026-03-01T03:30:00Z', zone: 'America/New_York', hour: 'cap:t1:h:2026-02-28T22', day: 'cap:t1:d:2026-02-28', month: 'cap:t1:m:2026-02' },
    { now: '2026-03-01T03:30:00Z', zone: undefined, hour: 'cap:t1:h:2026-03-01T03', day: 'cap:t1:d:2026-03-01', month: 'cap:t1:m:2026-03' },
    { now: '2026-11-01T06:30:00Z', zone: 'America/Chicago', hour: 'cap:t1:h:2026-11-01T01', day: 'cap:t1:d:2026-11-01', month: 'cap:t1:m:2026-11' },
  ])('periods in the buyer zone ($zone at $now)', ({ now, zone, hour, day, month }) => {
    const counters = capCounters(target({ concurrency: 10, hourly: 5, daily: 50, monthly: 500 }, zone), new Date(now));
    expect(counters).toEqual([
      { kind: 'concurrency', key: 'cap:t1:conc', limit: 10, ttlSec: 0 },
      { kind: 'hourly', key: hour, limit: 5, ttlSec: 7200 },
      { kind: 'daily', key: day, limit: 50, ttlSec: 172800 },
      { kind: 'monthly', key: month, limit: 500, ttlSec: 32 * 86400 },
    ]);
  });
});
