/**
 * Turns the channel data FreeSWITCH sends on `connect` into the CallInfo the pipeline reads.
 * Inbound calls come from the carrier; outbound ones were placed by `originate` and carry our callx_* variables.
 */
import type { CallInfo } from '../port';
import { readAttestation } from './attestation';
import type { EslHeaders } from './headers';

/** Channel variables the adapter sets on calls it places (originate) and reads back here. */
export const CALLX_VARS = {
  callId: 'callx_call_id',
  campaignId: 'callx_campaign_id',
  leadId: 'callx_lead_id',
  zip: 'callx_zip',
} as const;

/** SIP headers (besides the ones parsed into fields) worth keeping in the call trace. */
const TRACE_PREFIXES = ['variable_sip_h_x-', 'variable_sip_h_p-'];
const TRACE_VARIABLES = ['sip_call_id', 'sip_network_ip', 'sofia_profile_name', 'sip_from_host', 'sip_P-Asserted-Identity'];
const MAX_TRACE_VALUE = 256;

export function callInfoFromChannelData(h: EslHeaders): CallInfo {
  const outbound = (h.get('Call-Direction') ?? h.get('Caller-Direction')) === 'outbound';
  const callerNumber = h.get('Caller-Caller-ID-Number') ?? h.get('Caller-ANI') ?? h.variable('sip_from_user') ?? '';
  const destination = h.get('Caller-Destination-Number') ?? h.variable('sip_req_user') ?? h.variable('sip_to_user') ?? '';
  // The port's `ani` is always the consumer: on a leg we placed, that is who we called, and `dnis` the caller id we showed.
  const ani = outbound ? destination : callerNumber;
  const dnis = outbound ? callerNumber : destination;
  const { attestation, source: attestationSource, verstat } = readAttestation(h);
  const leadId = h.sipHeader('X-Lead-Id') ?? h.variable(CALLX_VARS.leadId);
  const zip = h.sipHeader('X-Zip') ?? h.variable(CALLX_VARS.zip);
  const campaignId = h.variable(CALLX_VARS.campaignId);

  const extra: Record<string, string> = {};
  for (const [name, value] of h.entriesStartingWith(TRACE_PREFIXES)) extra[name.slice('variable_'.length)] = value.slice(0, MAX_TRACE_VALUE);
  for (const v of TRACE_VARIABLES) {
    const value = h.variable(v);
    if (value !== undefined) extra[v] = value.slice(0, MAX_TRACE_VALUE);
  }
  const callId = h.variable(CALLX_VARS.callId);
  if (callId) extra[CALLX_VARS.callId] = callId;
  if (verstat) extra.verstat = verstat;

  const info: CallInfo = {
    switchCallId: h.get('Unique-ID') ?? h.get('Channel-Unique-ID') ?? '',
    switchName: 'freeswitch',
    ani,
    dnis,
    direction: outbound ? 'outbound' : 'inbound',
    extra,
  };
  if (attestation) info.attestation = attestation;
  if (attestationSource) info.attestationSource = attestationSource;
  // Who sent the call: whether an attestation header is believed depends on it (ATTESTATION_TRUSTED_CARRIERS).
  const address = h.variable('sip_network_ip');
  const trunk = h.variable('sofia_profile_name');
  if (address || trunk) info.carrier = { ...(address ? { address } : {}), ...(trunk ? { trunk } : {}) };
  if (leadId) info.leadId = leadId;
  if (zip) info.zip = zip;
  if (campaignId) info.campaignId = campaignId;
  if (callId) info.callId = callId;
  return info;
}
