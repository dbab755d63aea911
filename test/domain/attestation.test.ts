import { judgeAttestation, parseAttestationTrust, type AttestationFacts, type AttestationTrust } from '../../app/domain/attestation';

const TRUST: AttestationTrust = { addresses: ['203.0.113.10', '2001:db8::7'], trunks: ['callx_carriers'] };

describe('judgeAttestation', () => {
  it.each([
    ['outbound: our own A, whatever was reported', { direction: 'outbound' }, { level: 'A', source: 'own' }],
    ['outbound with a C reported: still ours', { direction: 'outbound', attestation: 'C', attestationSource: 'header' }, { level: 'A', source: 'own' }],
    ['nothing reported', { direction: 'inbound' }, {}],
    ['the switch verified it', { direction: 'inbound', attestation: 'B', attestationSource: 'switch' }, { level: 'B', source: 'switch' }],
    ['a carrier verstat, from anyone', { direction: 'inbound', attestation: 'A', attestationSource: 'verstat', carrier: { address: '198.51.100.7' } }, { level: 'A', source: 'verstat' }],
    ['a header from a trusted address', { direction: 'inbound', attestation: 'A', attestationSource: 'header', carrier: { address: '203.0.113.10', trunk: 'external' } }, { level: 'A', source: 'header' }],
    ['a header from a trusted IPv6 address, any case', { direction: 'inbound', attestation: 'A', attestationSource: 'header', carrier: { address: '2001:DB8::7' } }, { level: 'A', source: 'header' }],
    ['a header from a trusted trunk', { direction: 'inbound', attestation: 'B', attestationSource: 'header', carrier: { address: '198.51.100.7', trunk: 'callx_carriers' } }, { level: 'B', source: 'header' }],
  ] as [string, AttestationFacts, object][])('%s', (_name, facts, expected) => {
    expect(judgeAttestation(facts, TRUST)).toEqual(expected);
  });

  it.each([
    ['from an untrusted source', { address: '198.51.100.7', trunk: 'external' }, '198.51.100.7 / external'],
    ['with no source known', undefined, 'an unknown source'],
  ])('a header %s is ignored, and says why', (_name, carrier, from) => {
    const v = judgeAttestation({ direction: 'inbound', attestation: 'A', attestationSource: 'header', carrier }, TRUST);
    expect(v.level).toBeUndefined();
    expect(v.ignored).toEqual({ level: 'A', source: 'header', why: `attestation header from ${from}, not a trusted carrier trunk` });
  });

  it('a level with no source is a header: believed only from a trusted carrier', () => {
    expect(judgeAttestation({ direction: 'inbound', attestation: 'A' }, TRUST).level).toBeUndefined();
    expect(judgeAttestation({ direction: 'inbound', attestation: 'A', carrier: { trunk: 'callx_carriers' } }, TRUST).level).toBe('A');
  });

  it('with no trust configured, no header is believed', () => {
    expect(judgeAttestation({ direction: 'inbound', attestation: 'A', attestationSource: 'header', carrier: { address: '203.0.113.10' } }, { addresses: [], trunks: [] }).level).toBeUndefined();
  });
});

describe('parseAttestationTrust (ATTESTATION_TRUSTED_CARRIERS)', () => {
  it('reads addresses and trunk:<name> entries', () => {
    expect(parseAttestationTrust(['203.0.113.10', '2001:DB8::7', 'trunk:callx_carriers', 'trunk:carrier-east.1'])).toEqual({
      ok: true,
      trust: { addresses: ['203.0.113.10', '2001:db8::7'], trunks: ['callx_carriers', 'carrier-east.1'] },
    });
    expect(parseAttestationTrust([])).toEqual({ ok: true, trust: { addresses: [], trunks: [] } });
  });

  it('names the entries it cannot read', () => {
    expect(parseAttestationTrust(['203.0.113.10', 'carrier.example.com', 'trunk:', 'profile:x'])).toEqual({ ok: false, bad: ['carrier.example.com', 'trunk:', 'profile:x'] });
  });
});
