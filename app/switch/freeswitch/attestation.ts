/**
 * STIR/SHAKEN attestation as FreeSWITCH exposes it on a channel. Sources, most trusted first:
 * - `sip_verstat_detailed` set by sofia_stir_shaken_vs after verifying the Identity header
 *   ("TN-Validation-Passed-A"); its `sip_verstat` "TN-Validation-Passed" is only set for A attestation;
 * - the carrier's verdict: a `verstat=` parameter in P-Asserted-Identity or From (kept by sofia in
 *   `sip_P-Asserted-Identity`, `sip_full_from`, `sip_from_user`), when it names the level;
 * - an attestation header from the carrier (`X-Attestation`, `X-Attest`, ...) holding A, B or C: reported with
 *   source 'header', which the exchange believes only from a trusted carrier trunk (app/domain/attestation.ts).
 * Failed or absent verification gives no attestation; the raw verstat is kept for the call trace.
 */
import type { EslHeaders } from './headers';

export type Attestation = 'A' | 'B' | 'C';

const PASSED_WITH_LEVEL = /TN-Validation-Passed-([ABC])\b/i;
const VERSTAT_PARAM = /verstat=([A-Za-z-]+)/i;
const ATTESTATION_HEADERS = ['X-Attestation', 'X-Attest', 'X-STIR-Attestation', 'X-Shaken-Attestation', 'Attestation-Info'];

export interface AttestationResult {
  attestation?: Attestation;
  /** 'switch': FreeSWITCH verified it; 'verstat': the carrier's verstat; 'header': a bare header. */
  source?: 'switch' | 'verstat' | 'header';
  /** The verstat value seen, if any (e.g. "TN-Validation-Passed", "TN-Validation-Failed"). */
  verstat?: string;
}

export function readAttestation(h: EslHeaders): AttestationResult {
  const detailed = h.variable('sip_verstat_detailed');
  const detailedLevel = detailed ? PASSED_WITH_LEVEL.exec(detailed) : null;
  if (detailedLevel) return { attestation: detailedLevel[1]?.toUpperCase() as Attestation, source: 'switch', verstat: detailed };
  const verstat = h.variable('sip_verstat');
  if (verstat && /^TN-Validation-Passed$/i.test(verstat)) return { attestation: 'A', source: 'switch', verstat };

  const carrier = [
    h.variable('sip_P-Asserted-Identity'),
    h.sipHeader('P-Asserted-Identity'),
    h.variable('sip_full_from'),
    h.variable('sip_from_user'),
  ];
  let carrierVerstat: string | undefined;
  for (const text of carrier) {
    if (!text) continue;
    const m = VERSTAT_PARAM.exec(text);
    if (!m) continue;
    carrierVerstat = m[1];
    const level = PASSED_WITH_LEVEL.exec(m[1] ?? '');
    if (level) return { attestation: level[1]?.toUpperCase() as Attestation, source: 'verstat', verstat: carrierVerstat };
    break;
  }
  for (const name of ATTESTATION_HEADERS) {
    const v = h.sipHeader(name)?.trim().toUpperCase();
    if (v === 'A' || v === 'B' || v === 'C') return { attestation: v, source: 'header', verstat: carrierVerstat ?? verstat ?? detailed };
  }
  const seen = carrierVerstat ?? verstat ?? detailed;
  return seen ? { verstat: seen } : {};
}
