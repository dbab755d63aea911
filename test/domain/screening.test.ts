import { attestationSatisfies, screenCall, type ScreenFacts } from '../../app/domain/screening';
import type { Campaign } from '../../app/domain/model';
import type { CallerParse } from '../../app/domain/phone';

const campaign: Campaign = { id: 'c1', sellerAccountId: 's1', name: 'c', active: true, routing: 'second_price', floorCents: 0, requireConsent: false, noBuyerPrompt: 'x', bidDeadlineMs: 100 };
const valid: CallerParse = { ok: true, e164: '+18135550123', country: 'US', nationalNumber: '8135550123', areaCode: '813' };
const clean: ScreenFacts = { dnc: { global: false, campaign: false, registry: false }, blocked: false, consent: false };

describe('screenCall', () => {
  it.each([
    { name: 'a clean caller passes', caller: valid, facts: clean, c: {}, reasons: [] },
    { name: 'anonymous caller', caller: { ok: false, reason: 'anonymous', detail: 'anonymous' } as CallerParse, facts: clean, c: {}, reasons: ['anonymous_caller'] },
    { name: 'malformed caller', caller: { ok: false, reason: 'malformed', detail: 'abc' } as CallerParse, facts: clean, c: {}, reasons: ['invalid_caller'] },
    { name: 'blocked caller', caller: valid, facts: { ...clean, blocked: true }, c: {}, reasons: ['blocked_caller'] },
    { name: 'platform DNC', caller: valid, facts: { ...clean, dnc: { global: true, campaign: true, registry: false } }, c: {}, reasons: ['dnc_global'] },
    { name: 'campaign DNC', caller: valid, facts: { ...clean, dnc: { global: false, campaign: true, registry: false } }, c: {}, reasons: ['dnc_campaign'] },
    { name: 'registry DNC', caller: valid, facts: { ...clean, dnc: { global: false, campaign: false, registry: true } }, c: {}, reasons: ['dnc_registry'] },
    { name: 'consent required and missing', caller: valid, facts: clean, c: { requireConsent: true }, reasons: ['no_consent'] },
    { name: 'consent required and present', caller: valid, facts: { ...clean, consent: true }, c: { requireConsent: true }, reasons: [] },
    { name: 'attestation A required, none given', caller: valid, facts: clean, c: { minAttestation: 'A' }, reasons: ['attestation_required'] },
    { name: 'several failures are all reported', caller: valid, facts: { ...clean, blocked: true, dnc: { global: true, campaign: false, registry: false } }, c: { requireConsent: true }, reasons: ['blocked_caller', 'dnc_global', 'no_consent'] },
  ])('$name', ({ caller, facts, c, reasons }) => {
    const r = screenCall({ caller, campaign: { ...campaign, ...c } as Campaign, direction: 'inbound', facts });
    expect(r.reasons).toEqual(reasons);
    expect(r.pass).toBe(reasons.length === 0);
    expect(r.checks.length).toBeGreaterThan(0);
  });

  it('calling hours apply to outbound calls only', () => {
    const facts: ScreenFacts = { ...clean, callingHours: { allowed: false, reason: 'outside_calling_hours', ruleId: 'US-FED', timeZone: 'America/New_York', localTime: '2026-11-23 21:30 Mon', detail: 'after 21:00' } };
    expect(screenCall({ caller: valid, campaign, direction: 'outbound', facts: { ...facts, consent: true } }).reasons).toEqual(['outside_calling_hours']);
    expect(screenCall({ caller: valid, campaign, direction: 'inbound', facts }).reasons).toEqual([]);
  });

  it('every check that ran is kept for the audit log, passes included', () => {
    const r = screenCall({ caller: valid, campaign: { ...campaign, requireConsent: true, minAttestation: 'B' }, direction: 'inbound', attestation: 'B', facts: { ...clean, consent: true } });
    expect(r.pass).toBe(true);
    expect(r.checks.map((c) => c.rule)).toEqual(['caller', 'blocked', 'dnc', 'consent', 'attestation']);
  });
});

describe('consent scope, the seller DNC list and frequency limits (issue 14)', () => {
  const limit = { limit: 3, windowSec: 86_400, source: 'Fla. Stat. § 501.616(6)(b)' };
  it.each([
    { name: 'outbound needs consent by default', dir: 'outbound', c: {}, facts: clean, reasons: ['no_consent'] },
    { name: 'outbound with live consent passes', dir: 'outbound', c: {}, facts: { ...clean, consent: true }, reasons: [] },
    { name: 'outbound on an exempt campaign needs none', dir: 'outbound', c: { outboundConsentExempt: true }, facts: clean, reasons: [] },
    { name: 'an exempt campaign that requires consent still does', dir: 'outbound', c: { outboundConsentExempt: true, requireConsent: true }, facts: clean, reasons: ['no_consent'] },
    { name: 'inbound needs consent only when the campaign requires it', dir: 'inbound', c: {}, facts: clean, reasons: [] },
    { name: 'the seller DNC list binds outbound calls', dir: 'outbound', c: {}, facts: { ...clean, consent: true, dnc: { ...clean.dnc, seller: true } }, reasons: ['dnc_seller'] },
    { name: 'the seller DNC list does not refuse a consumer who calls in', dir: 'inbound', c: {}, facts: { ...clean, dnc: { ...clean.dnc, seller: true } }, reasons: [] },
    { name: 'a global DNC entry is named before the seller list', dir: 'outbound', c: {}, facts: { ...clean, consent: true, dnc: { global: true, campaign: false, registry: false, seller: true } }, reasons: ['dnc_global'] },
    { name: 'over the frequency limit', dir: 'outbound', c: {}, facts: { ...clean, consent: true, frequency: { allowed: false, limit } }, reasons: ['frequency_limited'] },
    { name: 'within the frequency limit', dir: 'outbound', c: {}, facts: { ...clean, consent: true, frequency: { allowed: true } }, reasons: [] },
    { name: 'inbound calls are never frequency limited', dir: 'inbound', c: {}, facts: { ...clean, frequency: { allowed: false, limit } }, reasons: [] },
  ] as const)('$name', ({ dir, c, facts, reasons }) => {
    const r = screenCall({ caller: valid, campaign: { ...campaign, ...c } as Campaign, direction: dir, facts: facts as ScreenFacts });
    expect(r.reasons).toEqual(reasons);
  });

  it('names the limit and its citation when it refuses', () => {
    const r = screenCall({ caller: valid, campaign, direction: 'outbound', facts: { ...clean, consent: true, frequency: { allowed: false, limit } } });
    expect(r.checks.find((c) => c.rule === 'frequency')).toEqual({ rule: 'frequency', pass: false, reason: 'frequency_limited', detail: '3 calls per 24 h reached (Fla. Stat. § 501.616(6)(b))' });
  });
});

describe('attestationSatisfies', () => {
  it.each([
    [undefined, undefined, true], ['A', 'A', true], ['A', 'B', false], ['A', undefined, false],
    ['B', 'A', true], ['B', 'B', true], ['B', 'C', false], ['B', undefined, false],
  ] as const)('requires %s, got %s -> %s', (required, got, ok) => {
    expect(attestationSatisfies(required, got)).toBe(ok);
  });
});
