import { decideBilling, isDuplicateCaller, sellerPayout, PLATFORM_ACCOUNT, type EndedCall, type PayoutRule } from '../../app/domain/billing';

const call = (over: Partial<EndedCall> = {}): EndedCall => ({
  callId: 'c1',
  campaignId: 'camp',
  sellerAccountId: 'seller',
  ani: '+12025550123',
  startedAt: new Date('2026-11-24T15:00:00Z'),
  outcome: 'bridged',
  billableSec: 90,
  winnerBuyerId: 'buyer',
  priceCents: 2500,
  ...over,
});
const fixed = (cents: number): PayoutRule => ({ payoutCents: cents, payoutPercent: null });
const share = (pct: number): PayoutRule => ({ payoutCents: null, payoutPercent: pct });

describe('sellerPayout', () => {
  it.each([
    ['fixed', 2500, fixed(1800), 1800],
    ['fixed above the price: capped at the price', 1000, fixed(1200), 1000],
    ['a million-dollar payout on a $20 call pays $20', 2000, fixed(100_000_000), 2000],
    ['fixed above the price where an admin allowed a negative margin', 1000, { ...fixed(1200), allowNegativeMargin: true }, 1200],
    ['share of 100% is the price', 2500, share(100), 2500],
    ['a free call pays nothing', 0, fixed(500), 0],
    ['share', 2500, share(70), 1750],
    ['share rounds down to a cent', 999, share(33.33), 332],
    ['share of two decimals', 10_000, share(12.34), 1234],
    ['no rule', 2500, { payoutCents: null, payoutPercent: null }, 0],
  ])('%s', (_name, price, rule, expected) => {
    expect(sellerPayout(price, rule)).toBe(expected);
  });
});

describe('isDuplicateCaller', () => {
  const start = new Date('2026-11-24T15:00:00Z');
  const daysBefore = (d: number) => new Date(start.getTime() - d * 86_400_000);
  it.each([
    ['no earlier conversion', [], 30, false],
    ['one 10 days before, window 30', [daysBefore(10)], 30, true],
    ['exactly at the window edge counts', [daysBefore(30)], 30, true],
    ['just outside the window', [daysBefore(30.01)], 30, false],
    ['window 0 never flags', [daysBefore(1)], 0, false],
    ['a later conversion does not count', [new Date(start.getTime() + 1000)], 30, false],
    ['the same instant does not count', [start], 30, false],
  ])('%s', (_name, earlier, windowDays, expected) => {
    expect(isDuplicateCaller(earlier as Date[], start, windowDays as number)).toBe(expected);
  });
});

describe('decideBilling', () => {
  it.each([
    ['converted: buyer pays, seller and platform are paid', call(), 60, fixed(1800), false, 'converted', [['buyer', -2500], ['seller', 1800], [PLATFORM_ACCOUNT, 700]]],
    ['exactly the threshold converts', call({ billableSec: 60 }), 60, fixed(1800), false, 'converted', [['buyer', -2500], ['seller', 1800], [PLATFORM_ACCOUNT, 700]]],
    ['one second short', call({ billableSec: 59 }), 60, fixed(1800), false, 'too_short', []],
    ['threshold 0 converts any bridged call', call({ billableSec: 0 }), 0, share(50), false, 'converted', [['buyer', -2500], ['seller', 1250], [PLATFORM_ACCOUNT, 1250]]],
    ['payout equal to the price leaves no platform entry', call(), 60, fixed(2500), false, 'converted', [['buyer', -2500], ['seller', 2500]]],
    ['no payout rule: the platform keeps it all', call(), 60, { payoutCents: null, payoutPercent: null }, false, 'converted', [['buyer', -2500], [PLATFORM_ACCOUNT, 2500]]],
    ['payout above the price: capped, the platform keeps nothing and pays nothing', call({ priceCents: 1000 }), 60, fixed(1200), false, 'converted', [['buyer', -1000], ['seller', 1000]]],
    ['payout above the price on a negative-margin campaign: the platform pays the difference', call({ priceCents: 1000 }), 60, { ...fixed(1200), allowNegativeMargin: true }, false, 'converted', [['buyer', -1000], ['seller', 1200], [PLATFORM_ACCOUNT, -200]]],
    ['a duplicate caller is routed but not billed', call(), 60, fixed(1800), true, 'duplicate_caller', []],
    ['not bridged', call({ outcome: 'no_buyer_answered', winnerBuyerId: undefined, priceCents: undefined }), 60, fixed(1800), false, 'not_bridged', []],
    ['abandoned', call({ outcome: 'abandoned' }), 60, fixed(1800), false, 'not_bridged', []],
    // A bridged call whose node was lost and which ended unwatched: billed on its lower-bound billable time.
    ['node lost after the bridge, lower bound reaching the threshold: charged the price like a bridged call', call({ outcome: 'node_lost', bridged: true, billableSec: 60 }), 60, fixed(1800), false, 'converted', [['buyer', -2500], ['seller', 1800], [PLATFORM_ACCOUNT, 700]]],
    ['node lost after the bridge, lower bound short of the threshold: not charged', call({ outcome: 'node_lost', bridged: true, billableSec: 59 }), 60, fixed(1800), false, 'too_short', []],
    ['node lost after the bridge, a duplicate caller: not charged', call({ outcome: 'node_lost', bridged: true }), 60, fixed(1800), true, 'duplicate_caller', []],
    ['node lost before the bridge (in setup): never charged', call({ outcome: 'node_lost', bridged: false, billableSec: 0, winnerBuyerId: undefined, priceCents: undefined }), 0, fixed(1800), false, 'not_bridged', []],
    ['node lost with no bridge recorded, even with a winner: never charged', call({ outcome: 'node_lost' }), 60, fixed(1800), false, 'not_bridged', []],
    ['another outcome with a bridge time is not charged', call({ outcome: 'failed', bridged: true }), 60, fixed(1800), false, 'not_bridged', []],
  ])('%s', (_name, c, threshold, rule, duplicate, reason, postings) => {
    const d = decideBilling(c, threshold, rule, duplicate);
    expect(d.reason).toBe(reason);
    expect(d.converted).toBe(reason === 'converted');
    expect(d.postings.map((p) => [p.accountId, p.amountCents])).toEqual(postings);
    expect(d.postings.reduce((sum, p) => sum + p.amountCents, 0)).toBe(0);
    expect(d.buyerChargeCents).toBe(d.converted ? c.priceCents : 0);
  });
});
