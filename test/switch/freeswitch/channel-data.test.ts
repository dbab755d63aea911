/**
 * CallInfo from channel data: the recorded connect reply, SIP headers, and every attestation source.
 */
import { callInfoFromChannelData } from '../../../app/switch/freeswitch/channel-data';
import { EslHeaders } from '../../../app/switch/freeswitch/headers';
import { fsUrlDecode } from '../../peers/freeswitch';
import connectReply from '../../fixtures/freeswitch/connect-reply.json';

const recorded = (): Record<string, string> =>
  Object.fromEntries((connectReply.headers as string[][]).map(([h, v]) => [h as string, fsUrlDecode(v as string)]));

const info = (vars: Record<string, string>) =>
  callInfoFromChannelData(new EslHeaders({ 'Unique-ID': 'u1', 'Call-Direction': 'inbound', 'Caller-Caller-ID-Number': '+12025550123', 'Caller-Destination-Number': '+18005550100', ...vars }));

describe('channel data -> CallInfo', () => {
  it('reads the recorded FreeSWITCH 1.10.12 connect reply', () => {
    const ci = callInfoFromChannelData(new EslHeaders(recorded()));
    expect(ci).toEqual(
      expect.objectContaining({
        switchCallId: 'b4890723-dc4a-44bf-ab97-8410781f6e37',
        switchName: 'freeswitch',
        ani: 'sipp',
        dnis: 'socket',
        direction: 'inbound',
      }),
    );
    expect(ci.attestation).toBeUndefined();
    expect(ci.extra?.sip_call_id).toBe('1-32749@127.0.0.1');
  });

  it('takes header names case-insensitively', () => {
    const ci = info({ 'variable_sip_h_x-lead-id': 'L-9', 'VARIABLE_SIP_H_X-ZIP': '10001' });
    expect(ci.leadId).toBe('L-9');
    expect(ci.zip).toBe('10001');
  });

  it('keeps X- and P- SIP headers for the trace, whatever their case, in the order the switch sent them', () => {
    const ci = info({
      'variable_sip_h_P-Charging-Vector': 'icid-value=1',
      variable_sip_h_Other: 'dropped',
      'VARIABLE_SIP_H_X-Campaign': 'c'.repeat(300),
      'variable_sip_h_x-lead-id': 'L-9',
      'variable_sip_h_X': 'too short for the prefix',
    });
    expect(Object.entries(ci.extra ?? {}).filter(([k]) => k.toLowerCase().startsWith('sip_h_'))).toEqual([
      ['sip_h_P-Charging-Vector', 'icid-value=1'],
      ['SIP_H_X-Campaign', 'c'.repeat(256)],
      ['sip_h_x-lead-id', 'L-9'],
    ]);
  });

  it.each([
    [{ variable_sip_verstat_detailed: 'TN-Validation-Passed-B' }, 'B'],
    [{ variable_sip_verstat: 'TN-Validation-Passed' }, 'A'],
    [{ 'variable_sip_P-Asserted-Identity': '<sip:+12025550123;verstat=TN-Validation-Passed-C@carrier.example;user=phone>' }, 'C'],
    [{ variable_sip_from_user: '+12025550123;verstat=TN-Validation-Passed-A' }, 'A'],
    [{ 'variable_sip_h_X-Attestation': 'b' }, 'B'],
    [{ 'variable_sip_P-Asserted-Identity': '+12025550123;verstat=TN-Validation-Passed', 'variable_sip_h_X-Attestation': 'A' }, 'A'],
    [{ variable_sip_verstat_detailed: 'TN-Validation-Failed-A', variable_sip_verstat: 'TN-Validation-Failed' }, undefined],
    [{ variable_sip_verstat: 'No-TN-Validation' }, undefined],
    [{ 'variable_sip_h_X-Attestation': 'maybe' }, undefined],
  ])('attestation from %j is %s', (vars, expected) => {
    expect(info(vars as Record<string, string>).attestation).toBe(expected);
  });

  it.each([
    [{ variable_sip_verstat_detailed: 'TN-Validation-Passed-B' }, 'switch'],
    [{ 'variable_sip_P-Asserted-Identity': '+12025550123;verstat=TN-Validation-Passed-C' }, 'verstat'],
    [{ 'variable_sip_h_X-Attestation': 'A' }, 'header'],
  ])('says where the attestation of %j came from (%s), and who sent the call', (vars, source) => {
    const ci = info({ ...(vars as Record<string, string>), variable_sip_network_ip: '203.0.113.10', variable_sofia_profile_name: 'callx_carriers' });
    expect(ci.attestationSource).toBe(source);
    expect(ci.carrier).toEqual({ address: '203.0.113.10', trunk: 'callx_carriers' });
  });

  it('keeps the verstat it saw in the trace even without a level', () => {
    const ci = info({ 'variable_sip_P-Asserted-Identity': '+12025550123;verstat=TN-Validation-Passed' });
    expect(ci.attestation).toBeUndefined();
    expect(ci.extra?.verstat).toBe('TN-Validation-Passed');
  });

  it('marks originated calls as outbound with their campaign and call id', () => {
    const ci = info({ 'Call-Direction': 'outbound', variable_callx_campaign_id: 'camp-1', variable_callx_call_id: 'call-1' });
    expect(ci.direction).toBe('outbound');
    expect(ci.campaignId).toBe('camp-1');
    expect(ci.callId).toBe('call-1');
  });

  it('on a leg we placed, ani is the consumer we called and dnis the caller id we showed', () => {
    const ci = info({ 'Call-Direction': 'outbound', 'Caller-Caller-ID-Number': '+18005550100', 'Caller-Destination-Number': '+13125550199' });
    expect(ci).toMatchObject({ ani: '+13125550199', dnis: '+18005550100' });
  });
});
