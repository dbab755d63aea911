/**
 * Which STIR/SHAKEN attestation a call is judged on. Pure.
 *
 * A switch reports a level and where it read it:
 * - 'switch': the switch verified the Identity header itself (FreeSWITCH `sip_verstat_detailed`): trusted;
 * - 'verstat': the terminating carrier's verification result in P-Asserted-Identity or From
 *   (`verstat=TN-Validation-Passed-B`, ATIS-1000074): trusted, it is the carrier's signed verdict;
 * - 'header': a bare attestation header (`X-Attestation: A`). Anyone can put one in an INVITE, so it counts
 *   only from a configured carrier trunk (by source address or trunk name); from anyone else it is ignored.
 * Calls the exchange places to consumers carry our own attestation (OWN_ATTESTATION): we sign them as the
 * originating provider of a number we hold, so a campaign's minimum attestation does not refuse them.
 */
export type Attestation = 'A' | 'B' | 'C';
export type AttestationSource = 'switch' | 'verstat' | 'header';

/** The carrier trunks whose attestation headers are believed. */
export interface AttestationTrust {
  /** Source IP addresses, exact (as the switch reports them). */
  addresses: readonly string[];
  /** Trunk names: a FreeSWITCH SIP profile, an Asterisk PJSIP endpoint. */
  trunks: readonly string[];
}

export const NO_TRUST: AttestationTrust = Object.freeze({ addresses: [], trunks: [] });

/** Full attestation: the exchange's outbound calls present a tracking number it holds, signed as such. */
export const OWN_ATTESTATION: Attestation = 'A';

export interface AttestationFacts {
  direction: 'inbound' | 'outbound';
  attestation?: Attestation;
  /** Where the switch read it; a level with no source is treated as a header (the least trusted). */
  attestationSource?: AttestationSource;
  /** Who sent the call, as the switch saw it. */
  carrier?: { address?: string; trunk?: string };
}

export interface AttestationVerdict {
  /** The level the call is judged on. */
  level?: Attestation;
  /** What the switch reported, when it differs (an untrusted header). */
  ignored?: { level: Attestation; source: AttestationSource; why: string };
  source?: AttestationSource | 'own';
}

export function judgeAttestation(f: AttestationFacts, trust: AttestationTrust): AttestationVerdict {
  if (f.direction === 'outbound') return { level: OWN_ATTESTATION, source: 'own' };
  if (!f.attestation) return {};
  const source = f.attestationSource ?? 'header';
  if (source !== 'header' || isTrustedCarrier(f.carrier, trust)) return { level: f.attestation, source };
  const from = [f.carrier?.address, f.carrier?.trunk].filter(Boolean).join(' / ') || 'an unknown source';
  return { ignored: { level: f.attestation, source, why: `attestation header from ${from}, not a trusted carrier trunk` } };
}

export function isTrustedCarrier(carrier: AttestationFacts['carrier'], trust: AttestationTrust): boolean {
  if (!carrier) return false;
  return (carrier.address !== undefined && trust.addresses.includes(carrier.address.toLowerCase())) || (carrier.trunk !== undefined && trust.trunks.includes(carrier.trunk));
}

/**
 * ATTESTATION_TRUSTED_CARRIERS: comma-separated source addresses and `trunk:<name>` entries, e.g.
 * "203.0.113.10,2001:db8::7,trunk:callx_carriers". Returns the trust, or the entries it cannot read.
 */
export function parseAttestationTrust(list: readonly string[]): { ok: true; trust: AttestationTrust } | { ok: false; bad: string[] } {
  const addresses: string[] = [];
  const trunks: string[] = [];
  const bad: string[] = [];
  for (const entry of list) {
    const trunk = /^trunk:([A-Za-z0-9_.\-]+)$/.exec(entry);
    if (trunk) trunks.push(trunk[1]!);
    else if (/^\d{1,3}(\.\d{1,3}){3}$/.test(entry) || /^[0-9a-fA-F:]+:[0-9a-fA-F:.]*$/.test(entry)) addresses.push(entry.toLowerCase());
    else bad.push(entry);
  }
  return bad.length ? { ok: false, bad } : { ok: true, trust: { addresses, trunks } };
}
