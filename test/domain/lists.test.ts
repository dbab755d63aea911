import { consentPredatesReassignment, copyCovers, judgeRegistryCopy, oldestFreshRegistryDateMs, registryAgeDays, registryKindFor } from '../../app/domain/lists';
import { screenCall, type ScreenFacts } from '../../app/domain/screening';
import type { Campaign } from '../../app/domain/model';
import type { CallerParse } from '../../app/domain/phone';

const day = (s: string): number => Date.parse(`${s}T00:00:00Z`);
const at = (s: string): number => Date.parse(s);

describe('registryKindFor: the FTC registry for the US and its territories, the DNCL for Canada, none elsewhere', () => {
  it.each([
    ['US', 'us'], ['PR', 'us'], ['VI', 'us'], ['GU', 'us'], ['MP', 'us'], ['AS', 'us'], ['CA', 'ca'], ['JM', undefined], ['GB', undefined],
  ])('%s -> %s', (country, kind) => expect(registryKindFor(country)).toBe(kind));
});

describe('judgeRegistryCopy (16 CFR 310.4(b)(3)(iv), 47 CFR 64.1200(c)(2)(i)(D): at most 31 days old)', () => {
  const base = { kind: 'us' as const, areaCode: '813', maxAgeDays: 31, required: true };
  it.each([
    ['a copy of today', '2026-12-07', '2026-12-07T15:00:00Z', true],
    ['31 days old, its last minute', '2026-11-06', '2026-12-07T23:59:59Z', true],
    ['32 days old, its first minute', '2026-11-05', '2026-12-07T00:00:00Z', false],
    ['32 days old', '2026-11-05', '2026-12-07T12:00:00Z', false],
    ['across the DST change (ages are UTC days)', '2026-10-07', '2026-11-07T06:00:00Z', true],
  ])('%s (copy of %s at %s): fresh %s', (_name, date, now, fresh) => {
    const v = judgeRegistryCopy({ ...base, copy: { registryDateMs: day(date), coversNumber: true }, nowMs: at(now) });
    expect(v?.fresh).toBe(fresh);
    if (v && !v.fresh) expect(v).toMatchObject({ why: 'stale', detail: expect.stringContaining('days old (at most 31)') });
    // The script's bound (lists-lua.ts) says the same.
    expect(day(date) >= oldestFreshRegistryDateMs(at(now), 31)).toBe(fresh);
  });

  it('no copy at all is stale when a copy is required, and not judged when it is not', () => {
    expect(judgeRegistryCopy({ ...base, copy: undefined, nowMs: at('2026-12-07T12:00:00Z') })).toMatchObject({ fresh: false, why: 'missing' });
    expect(judgeRegistryCopy({ ...base, required: false, copy: undefined, nowMs: at('2026-12-07T12:00:00Z') })).toBeUndefined();
  });

  it('a fresh copy that does not cover the area code is no scrub', () => {
    const v = judgeRegistryCopy({ ...base, kind: 'ca', areaCode: '416', copy: { registryDateMs: day('2026-12-01'), coversNumber: false }, nowMs: at('2026-12-07T12:00:00Z') });
    expect(v).toMatchObject({ fresh: false, why: 'area_code_not_covered', detail: 'Canadian National DNCL copy of 2026-12-01 does not cover area code 416' });
  });

  it.each([
    [[], '813', true],
    [['813', '727'], '727', true],
    [['813'], '727', false],
    [['813'], undefined, false],
  ])('copyCovers(%j, %s) = %s', (codes, npa, covers) => expect(copyCovers(codes, npa)).toBe(covers));

  it('ages are whole UTC days', () => {
    expect(registryAgeDays(day('2026-12-01'), at('2026-12-07T23:59:59Z'))).toBe(6);
  });
});

describe('consentPredatesReassignment (47 CFR 64.1200(m))', () => {
  it.each([
    ['consent before the disconnection', '2026-06-01T10:00:00Z', '2026-08-01', true],
    ['disconnected on the consent day (dates only: the safe reading)', '2026-08-01T18:00:00Z', '2026-08-01', true],
    ['consent the day after the disconnection (the new owner)', '2026-08-02T00:00:00Z', '2026-08-01', false],
    ['no RND result', '2026-06-01T10:00:00Z', undefined, false],
    ['no consent', undefined, '2026-08-01', false],
  ])('%s: %s', (_name, consent, disconnected, reassigned) => {
    expect(consentPredatesReassignment(consent === undefined ? undefined : at(consent), disconnected === undefined ? undefined : day(disconnected))).toBe(reassigned);
  });
});

describe('screenCall with the purchased lists', () => {
  const campaign: Campaign = { id: 'c1', sellerAccountId: 's1', name: 'c', active: true, routing: 'second_price', floorCents: 0, requireConsent: false, noBuyerPrompt: 'x', bidDeadlineMs: 100 };
  const caller: CallerParse = { ok: true, e164: '+18135550123', country: 'US', nationalNumber: '8135550123', areaCode: '813' };
  const clean: ScreenFacts = { dnc: { global: false, campaign: false, registry: false }, blocked: false, consent: true, lists: { national: false, litigator: false } };
  const stale = { fresh: false as const, kind: 'us' as const, why: 'stale' as const, detail: 'old' };
  const reassigned = { national: false, litigator: false, consentAtMs: at('2026-06-01T10:00:00Z'), disconnectedOnMs: day('2026-08-01') };

  it.each([
    { name: 'on the national registry copy', direction: 'inbound', c: {}, facts: { ...clean, lists: { national: true, litigator: false } }, reasons: ['dnc_registry'] },
    { name: 'stale copy, outbound', direction: 'outbound', c: {}, facts: { ...clean, registry: stale }, reasons: ['dnc_registry_stale'] },
    { name: 'stale copy, inbound (the consumer called)', direction: 'inbound', c: {}, facts: { ...clean, registry: stale }, reasons: [] },
    { name: 'reassigned, outbound, consent required', direction: 'outbound', c: { requireConsent: true }, facts: { ...clean, lists: reassigned }, reasons: ['number_reassigned'] },
    { name: 'reassigned, outbound, consent needed by default (not exempt)', direction: 'outbound', c: {}, facts: { ...clean, lists: reassigned }, reasons: ['number_reassigned'] },
    { name: 'reassigned, but the campaign relies on no consent (outbound consent exempt)', direction: 'outbound', c: { outboundConsentExempt: true }, facts: { ...clean, lists: reassigned }, reasons: [] },
    { name: 'reassigned, inbound (the caller is the number\'s owner)', direction: 'inbound', c: { requireConsent: true }, facts: { ...clean, lists: reassigned }, reasons: [] },
    { name: 'litigator on a campaign that blocks them', direction: 'inbound', c: { blockLitigators: true }, facts: { ...clean, lists: { national: false, litigator: true } }, reasons: ['litigator'] },
    { name: 'litigator on a campaign that does not', direction: 'inbound', c: {}, facts: { ...clean, lists: { national: false, litigator: true } }, reasons: [] },
  ])('$name: $reasons', ({ direction, c, facts, reasons }) => {
    const r = screenCall({ caller, campaign: { ...campaign, ...c }, direction: direction as 'inbound' | 'outbound', facts });
    expect(r.reasons).toEqual(reasons);
  });
});
