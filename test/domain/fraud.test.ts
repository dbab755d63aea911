import { DEFAULT_FRAUD_RULES, looksSpoofed, scoreCall, type FraudFacts } from '../../app/domain/fraud';

const facts = (over: Partial<FraudFacts> = {}): FraudFacts => ({
  stage: 'screening',
  ani: '+12025550123',
  dnis: '+18885550100',
  aniValid: true,
  attestation: 'A',
  callsLastMinute: 1,
  callsLastHour: 1,
  callsLastDay: 1,
  sellersLastDay: 1,
  ...over,
});

describe('looksSpoofed', () => {
  it.each([
    ['an ordinary number', '+12025550123', '+18885550100', true, false],
    ['not a valid number', '+1202555', '+18885550100', false, true],
    ['line part all one digit', '+12025555555', '+18885550100', true, true],
    ['line part a straight run', '+12021234567', '+18885550100', true, true],
    ['line part a falling run', '+12029876543', '+18885550100', true, true],
    ['the dialled number itself', '+18885550100', '+18885550100', true, true],
  ])('%s', (_n, ani, dnis, valid, expected) => {
    expect(looksSpoofed(ani, dnis, valid)).toBe(expected);
  });
});

describe('scoreCall', () => {
  const rules = DEFAULT_FRAUD_RULES;
  it.each<[string, Partial<FraudFacts>, number, string[], string]>([
    ['a clean call', {}, 0, [], 'none'],
    ['velocity: one over the per-minute limit blocks', { callsLastMinute: 6 }, 70, ['velocity_minute'], 'block_caller'],
    ['velocity: at the per-minute limit is fine', { callsLastMinute: 5 }, 0, [], 'none'],
    ['velocity: hourly', { callsLastHour: 31 }, 50, ['velocity_hour'], 'none'],
    ['velocity: hourly with attestation C blocks', { callsLastHour: 31, attestation: 'C' }, 65, ['velocity_hour', 'attestation_c'], 'none'],
    ['velocity: daily plus repeat across sellers blocks', { callsLastDay: 101, sellersLastDay: 3 }, 70, ['velocity_day', 'repeat_across_sellers'], 'block_caller'],
    ['only the worst velocity window counts', { callsLastMinute: 6, callsLastHour: 40, callsLastDay: 200 }, 70, ['velocity_minute'], 'block_caller'],
    ['no attestation', { attestation: undefined }, 10, ['no_attestation'], 'none'],
    ['spoofed-looking ANI', { ani: '+12025555555' }, 40, ['spoofed_ani'], 'none'],
    ['spoofed with attestation C and repeat sellers blocks', { ani: '+12025555555', attestation: 'C', sellersLastDay: 4 }, 85, ['repeat_across_sellers', 'spoofed_ani', 'attestation_c'], 'block_caller'],
    ['a very short bridged call', { stage: 'ended', bridged: true, billableSec: 2 }, 10, ['very_short_call'], 'none'],
    ['short but not bridged is not a short call', { stage: 'ended', bridged: false, billableSec: 0 }, 0, [], 'none'],
    ['short calls are judged only at the end', { stage: 'screening', bridged: true, billableSec: 0 }, 0, [], 'none'],
    ['a seller with mostly short calls: pause the number', { stage: 'ended', bridged: true, billableSec: 60, sellerCallsLastHour: 40, sellerShortCallsLastHour: 25 }, 70, ['seller_short_calls'], 'pause_number'],
    ['too few seller calls to judge', { stage: 'ended', bridged: true, billableSec: 60, sellerCallsLastHour: 10, sellerShortCallsLastHour: 10 }, 0, [], 'none'],
    ['seller anomaly and a caller bad on its own: block the caller', { stage: 'ended', bridged: true, billableSec: 60, callsLastMinute: 9, sellerCallsLastHour: 40, sellerShortCallsLastHour: 30 }, 100, ['velocity_minute', 'seller_short_calls'], 'block_caller'],
  ])('%s', (_n, over, score, reasons, action) => {
    expect(scoreCall(facts(over), rules)).toEqual({ score, reasons, action });
  });

  it('thresholds are config', () => {
    expect(scoreCall(facts({ callsLastMinute: 3 }), { ...rules, velocityPerMinute: 2 }).action).toBe('block_caller');
    expect(scoreCall(facts({ callsLastMinute: 6 }), { ...rules, blockScore: 90 }).action).toBe('none');
  });
});
