import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { normalizeE164, parseCaller } from '../../app/domain/phone';
import { AREA_CODES } from '../../app/domain/data/area-codes';

describe('parseCaller: valid numbers', () => {
  it.each([
    // input, e164, country, areaCode
    ['+18135551234', '+18135551234', 'US', '813'],
    ['18135551234', '+18135551234', 'US', '813'],
    ['8135551234', '+18135551234', 'US', '813'],
    ['  +18135551234\n', '+18135551234', 'US', '813'],
    ['(813) 555-1234', '+18135551234', 'US', '813'],
    ['+1 813.555.1234', '+18135551234', 'US', '813'],
    ['2125552368', '+12125552368', 'US', '212'], // 555 is an ordinary exchange
    ['8135550100', '+18135550100', 'US', '813'], // 555-01xx (fiction range): kept valid, see phone.ts
    ['+18885550100', '+18885550100', 'US', '888'], // ... also on toll-free, the test suites' tracking number
    ['+12025551234', '+12025551234', 'US', '202'], // DC
    ['+16245551234', '+16245551234', 'US', '624'], // overlay (2023) missing from libphonenumber's metadata
    ['+17875551234', '+17875551234', 'PR', '787'],
    ['+16715551234', '+16715551234', 'GU', '671'],
    ['+14165551234', '+14165551234', 'CA', '416'], // Canada: slow path
    ['+18005551234', '+18005551234', 'US', '800'], // toll-free: valid, not geographic
    ['+18765551234', '+18765551234', 'JM', '876'],
  ])('%j → %s', (input, e164, country, areaCode) => {
    const p = parseCaller(input);
    expect(p).toEqual({ ok: true, e164, country, nationalNumber: e164.slice(2), areaCode });
  });

  it.each([
    ['+442079460958', '+442079460958', 'GB', '2079460958'],
    ['011442079460958', '+442079460958', 'GB', '2079460958'], // US exit code
    ['+525512345678', '+525512345678', 'MX', '5512345678'],
  ])('international %j has no area code', (input, e164, country, nationalNumber) => {
    expect(parseCaller(input)).toEqual({ ok: true, e164, country, nationalNumber });
  });
});

describe('parseCaller: rejected numbers', () => {
  it.each([
    ['anonymous', 'anonymous'],
    ['Anonymous', 'anonymous'],
    ['RESTRICTED', 'anonymous'],
    ['unavailable', 'anonymous'],
    ['Private', 'anonymous'],
    ['unknown', 'anonymous'],
    ['0000000000', 'anonymous'],
    ['+10000000000', 'anonymous'],
    ['0', 'anonymous'],
    ['', 'empty'],
    ['   ', 'empty'],
    ['abc', 'malformed'],
    ['813-555-CALL', 'malformed'],
    ['sip:+18135551234@host', 'malformed'], // adapters strip URIs; a leftover one is garbage
    ['+1 813 555 1234 ext 5', 'malformed'],
    ['++18135551234', 'malformed'],
    ['813+5551234', 'malformed'],
    ['#31#', 'malformed'],
    ['0135551234', 'invalid'], // NPA starts with 0
    ['1135551234', 'invalid'], // NPA starts with 1
    ['2115551234', 'invalid'], // N11 area code
    ['8134115555', 'invalid'], // N11 exchange (411)
    ['8130551234', 'invalid'], // exchange starts with 0
    ['8131551234', 'invalid'], // exchange starts with 1
    ['2225551234', 'invalid'], // NPA not assigned
    ['+13402345678', 'invalid'], // Virgin Islands exchange that does not exist (territories: libphonenumber decides)
    ['12345', 'invalid'],
    ['+1813555123', 'invalid'], // one digit short
    ['+1234567890123456', 'invalid'], // longer than E.164
  ])('%j → %s', (input, reason) => {
    const p = parseCaller(input);
    expect(p.ok).toBe(false);
    if (!p.ok) {
      expect(p.reason).toBe(reason);
      expect(p.detail.length).toBeGreaterThan(0);
    }
  });
});

describe('parseCaller fast path agrees with libphonenumber', () => {
  // The six overlays libphonenumber 1.13.16 does not know yet are the only NPAs where we say more than it does.
  const NEWER_THAN_METADATA = new Set(['357', '436', '624', '679', '861', '924']);

  it('every state/DC area code in our table parses as US, with its NPA', () => {
    for (const [npa, e] of Object.entries(AREA_CODES)) {
      if (['PR', 'VI', 'GU', 'MP', 'AS'].includes(e.state)) continue;
      expect(parseCaller(`${npa}2345678`)).toEqual({ ok: true, e164: `+1${npa}2345678`, country: 'US', nationalNumber: `${npa}2345678`, areaCode: npa });
    }
  });

  it.each(['234', '456', '789', '987', '555'])('and libphonenumber agrees for NXX %s', (nxx) => {
    for (const [npa, e] of Object.entries(AREA_CODES)) {
      if (NEWER_THAN_METADATA.has(npa) || ['VI', 'MP', 'AS'].includes(e.state)) continue;
      const lib = parsePhoneNumberFromString(`+1${npa}${nxx}2345`);
      expect([npa, lib?.isValid()]).toEqual([npa, true]);
      expect(parseCaller(`+1${npa}${nxx}2345`).ok).toBe(true);
    }
  });
});

describe('normalizeE164', () => {
  it.each([
    ['(813) 555-1234', '+18135551234'],
    ['1-813-555-1234', '+18135551234'],
    [' +44 20 7946 0958 ', '+442079460958'],
    ['anonymous', undefined],
    ['', undefined],
    ['call me', undefined],
    ['+1 (888) 555-0100', '+18885550100'],
    ['5551234', undefined], // no area code
  ])('%j → %s', (input, expected) => {
    expect(normalizeE164(input)).toBe(expected);
  });
});
