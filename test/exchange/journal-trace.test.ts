/**
 * The journal's compact decision trace: what the recorder expands is exactly the trace the router built, and the
 * entry is smaller for the common shapes (a ranking of standing bids, one winner).
 */
import { compactTrace, expandTrace } from '../../app/exchange/journal-trace';
import { emptyExclusions, emptyRanking, type DecisionTrace } from '../../app/exchange/trace';

const identity = { callId: 'call-1', dnis: '+18885550100', ani: '+18135550123', direction: 'inbound' as const, decidedAt: '2026-12-07T10:00:00.000Z' };

function trace(over: Partial<DecisionTrace> = {}): DecisionTrace {
  return {
    ...identity,
    caller: { ok: true, e164: identity.ani },
    campaignId: 'c1',
    routing: 'second_price',
    floorCents: 100,
    ranked: emptyRanking(),
    excluded: emptyExclusions(),
    outcome: 'route',
    decisionUs: 123,
    ...over,
  };
}

function ranking(n: number, at: (i: number) => Partial<{ source: string; status: DecisionTrace['ranked']['status'][number]; reason: string | null }> = () => ({})): DecisionTrace['ranked'] {
  const r = emptyRanking();
  for (let i = 0; i < n; i++) {
    r.targetId.push(`t${i}`);
    r.buyerAccountId.push(`buyer-${i}`);
    r.bidCents.push(3000 - i * 37);
    r.score.push((3000 - i * 37) * 0.73);
    r.priceCents.push(2900 - i * 37);
    r.source.push(at(i).source ?? 'standing');
    r.status.push(at(i).status ?? (i === 0 ? 'won' : 'lost'));
    r.reason.push(at(i).reason ?? null);
  }
  return r;
}

describe('the journal trace', () => {
  const cases: Array<[string, DecisionTrace]> = [
    ['fifty standing bids, the first won', trace({ ranked: ranking(50), winnerTargetId: 't0', priceCents: 2900 })],
    [
      'real-time and standing bids, caps reached and short funds',
      trace({ ranked: ranking(12, (i) => ({ source: i % 3 === 0 ? 'rtb-ping' : 'standing', status: i === 1 ? 'cap_reached' : i === 2 ? 'insufficient_funds' : i === 3 ? 'won' : 'lost', reason: i === 1 ? 'cap_concurrency' : i === 2 ? 'insufficient_funds' : null })) }),
    ],
    [
      'a rejected call with exclusions (late bidders without a target among them)',
      trace({
        outcome: 'reject',
        rejectReason: 'no_eligible_buyer',
        excluded: {
          targetId: ['', '', '', '', 't9'],
          buyerAccountId: ['', '', '', '', 'b9'],
          bidCents: [0, 0, 0, 0, 500],
          source: ['rtb-a', 'rtb-b', 'rtb-c', 'rtb-d', 'standing'],
          reason: ['bid_timeout', 'bid_timeout', 'bid_timeout', 'bid_timeout', 'geo'],
          detail: ['no answer within 100 ms', 'no answer within 100 ms', 'no answer within 100 ms', 'no answer within 100 ms', null],
        },
      }),
    ],
    ['a tiny ranking (left as it is)', trace({ ranked: ranking(2) })],
  ];

  it.each(cases)('%s: expanded, it is the trace the router built', (_name, t) => {
    const before = JSON.stringify(t);
    const compact = compactTrace(t, identity);
    expect(JSON.stringify(t)).toBe(before); // the router's trace is not touched
    expect(expandTrace(JSON.parse(JSON.stringify(compact)), identity)).toEqual(t);
  });

  it('is at least a quarter smaller for a ranking of fifty standing bids', () => {
    const t = cases[0]![1];
    expect(JSON.stringify(compactTrace(t, identity)).length).toBeLessThan(JSON.stringify(t).length * 0.75);
  });

  it('keeps an identity that differs from the entry, and takes a full trace from an older node as it is', () => {
    const t = trace({ ranked: ranking(6), decidedAt: '2026-12-07T10:00:00.500Z' });
    expect(expandTrace(compactTrace(t, identity), identity)).toEqual(t);
    expect(expandTrace(t, identity)).toEqual(t);
  });
});
