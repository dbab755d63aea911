import { consentExpiry, consentLive, DEFAULT_CONSENT_VALIDITY_DAYS } from '../../app/domain/consent';

const at = (s: string) => new Date(s);

describe('consentExpiry', () => {
  it.each([
    { name: 'the record\'s own expiry', given: '2026-11-01T00:00:00Z', expires: '2026-11-15T00:00:00Z', days: 90, want: '2026-11-15T00:00:00.000Z' },
    { name: 'else the validity from when it was given', given: '2026-11-01T00:00:00Z', expires: undefined, days: 90, want: '2027-01-30T00:00:00.000Z' },
    { name: 'an operator\'s shorter validity', given: '2026-11-01T00:00:00Z', expires: undefined, days: 30, want: '2026-12-01T00:00:00.000Z' },
  ])('$name', ({ given, expires, days, want }) => {
    expect(consentExpiry(at(given), expires ? at(expires) : undefined, days).toISOString()).toBe(want);
  });

  it('defaults to 90 days', () => expect(DEFAULT_CONSENT_VALIDITY_DAYS).toBe(90));
});

describe('consentLive', () => {
  const r = { consentedAt: at('2026-11-01T00:00:00Z'), expiresAt: at('2026-12-01T00:00:00Z') };
  it.each([
    { name: 'before it was given', now: '2026-10-31T23:59:59Z', rec: r, live: false },
    { name: 'once given', now: '2026-11-01T00:00:00Z', rec: r, live: true },
    { name: 'the last moment before expiry', now: '2026-11-30T23:59:59.999Z', rec: r, live: true },
    { name: 'expired consent is not consent', now: '2026-12-01T00:00:00Z', rec: r, live: false },
    { name: 'revoked', now: '2026-11-10T00:00:00Z', rec: { ...r, revokedAt: at('2026-11-05T00:00:00Z') }, live: false },
  ])('$name', ({ now, rec, live }) => {
    expect(consentLive(rec, at(now))).toBe(live);
  });
});
