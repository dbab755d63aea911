import { runAuction, type Bid } from '../../app/domain/auction';

const bid = (targetId: string, bidCents: number, extra: Partial<Bid> = {}): Bid => ({
  targetId,
  buyerAccountId: `buyer-${targetId}`,
  bidCents,
  qualityScore: 1,
  priority: 1,
  weight: 1,
  destination: `sip:${targetId}@x`,
  answerTimeoutSec: 20,
  source: 'standing',
  ...extra,
});
const never = (): number => {
  throw new Error('random must not be used by price auctions');
};

describe('runAuction: ranking and pricing', () => {
  it.each([
    {
      name: 'first price: highest bid wins and pays its bid',
      routing: 'first_price' as const, floor: 0,
      bids: [bid('a', 500), bid('b', 900), bid('c', 700)],
      order: ['b', 'c', 'a'], prices: [900, 700, 500],
    },
    {
      name: 'second price: each rank pays what keeps it above the next; last pays the floor',
      routing: 'second_price' as const, floor: 100,
      bids: [bid('a', 500), bid('b', 900), bid('c', 700)],
      order: ['b', 'c', 'a'], prices: [700, 500, 100],
    },
    {
      name: 'quality weighs the rank: 800 x 0.5 loses to 500 x 1',
      routing: 'first_price' as const, floor: 0,
      bids: [bid('hi', 800, { qualityScore: 0.5 }), bid('lo', 500)],
      order: ['lo', 'hi'], prices: [500, 800],
    },
    {
      name: 'second price with quality: the winner pays next score / own quality, rounded up to a cent',
      routing: 'second_price' as const, floor: 0,
      bids: [bid('a', 1000, { qualityScore: 0.9 }), bid('b', 700, { qualityScore: 1 })],
      order: ['a', 'b'], prices: [778, 0],
    },
    {
      name: 'floor excludes lower bids; a lone bidder pays the floor in second price',
      routing: 'second_price' as const, floor: 600,
      bids: [bid('a', 500), bid('b', 900)],
      order: ['b'], prices: [600],
    },
    {
      name: 'a bid exactly at the floor stays',
      routing: 'first_price' as const, floor: 500,
      bids: [bid('a', 500)],
      order: ['a'], prices: [500],
    },
    {
      name: 'ties break on higher bid, then lower target id, whatever the input order',
      routing: 'first_price' as const, floor: 0,
      bids: [bid('z', 500), bid('m', 1000, { qualityScore: 0.5 }), bid('a', 500)],
      order: ['m', 'a', 'z'], prices: [1000, 500, 500],
    },
    {
      name: 'second price never charges more than the bid',
      routing: 'second_price' as const, floor: 0,
      bids: [bid('a', 600, { qualityScore: 0.5 }), bid('b', 290, { qualityScore: 1 })],
      order: ['a', 'b'], prices: [580, 0],
    },
  ])('$name', ({ routing, floor, bids, order, prices }) => {
    const ranked = runAuction({ bids, routing, floorCents: floor, random: never });
    expect(ranked.map((r) => r.targetId)).toEqual(order);
    expect(ranked.map((r) => r.priceCents)).toEqual(prices);
    expect(ranked.map((r) => r.rank)).toEqual(order.map((_, i) => i + 1));
    expect(runAuction({ bids: [...bids].reverse(), routing, floorCents: floor, random: never }).map((r) => r.targetId)).toEqual(order);
  });

  it('returns nothing for no bids', () => {
    expect(runAuction({ bids: [], routing: 'second_price', floorCents: 0, random: never })).toEqual([]);
  });
});

describe('runAuction: priority and weight', () => {
  const seq = (...values: number[]) => {
    let i = 0;
    return () => values[i++ % values.length]!;
  };

  it('lower priority number goes first regardless of bid', () => {
    const ranked = runAuction({ bids: [bid('p2', 9000, { priority: 2 }), bid('p1', 100, { priority: 1 })], routing: 'priority_weight', floorCents: 0, random: seq(0) });
    expect(ranked.map((r) => r.targetId)).toEqual(['p1', 'p2']);
    expect(ranked.map((r) => r.priceCents)).toEqual([100, 9000]);
  });

  it.each([
    { draw: 0.0, first: 'a' },
    { draw: 0.24, first: 'a' },
    { draw: 0.25, first: 'b' },
    { draw: 0.99, first: 'b' },
  ])('weights 1:3 split the draw: $draw -> $first first', ({ draw, first }) => {
    const ranked = runAuction({ bids: [bid('b', 100, { weight: 3 }), bid('a', 100, { weight: 1 })], routing: 'priority_weight', floorCents: 0, random: seq(draw, 0) });
    expect(ranked[0]!.targetId).toBe(first);
    expect(ranked).toHaveLength(2);
  });

  it('over many calls the split follows the weights', () => {
    let state = 42;
    const lcg = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
    const wins: Record<string, number> = { a: 0, b: 0 };
    for (let i = 0; i < 4000; i++) {
      const ranked = runAuction({ bids: [bid('a', 100, { weight: 1 }), bid('b', 100, { weight: 3 })], routing: 'priority_weight', floorCents: 0, random: lcg });
      wins[ranked[0]!.targetId]! += 1;
    }
    expect(wins.b! / 4000).toBeGreaterThan(0.7);
    expect(wins.b! / 4000).toBeLessThan(0.8);
  });

  it('zero-weight targets are tried only after the weighted ones', () => {
    const ranked = runAuction({ bids: [bid('zero', 100, { weight: 0 }), bid('one', 100, { weight: 1 })], routing: 'priority_weight', floorCents: 0, random: seq(0.5) });
    expect(ranked.map((r) => r.targetId)).toEqual(['one', 'zero']);
  });
});
