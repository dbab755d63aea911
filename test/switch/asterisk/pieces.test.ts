/**
 * The Asterisk adapter's pure pieces: dial strings, causes, call info, the event guard.
 */
import { isUnreadEvent, parseEvent, eventTime } from '../../../app/switch/asterisk/ari-model';
import { attestationOf, inboundCallInfo, readAttestation } from '../../../app/switch/asterisk/call-info';
import { attemptStatus, callerHangupCause, causeName, hangupReason } from '../../../app/switch/asterisk/causes';
import { IdFactory } from '../../../app/switch/asterisk/leg-context';
import { buyerEndpoint, callerIdParam, consumerEndpoint, stasisArgs, tagVariables } from '../../../app/switch/asterisk/dial';

describe('Asterisk adapter pieces', () => {
  it.each([
    ['+15551230001', 'buyers', 'PJSIP/+15551230001@buyers'],
    ['15551230001', 'buyers', 'PJSIP/+15551230001@buyers'],
    ['tel:+15551230001', 'buyers', 'PJSIP/+15551230001@buyers'],
    ['sip:buyer@10.0.0.5', 'buyers', 'PJSIP/buyers/sip:buyer@10.0.0.5'],
    ['sip:buyer@10.0.0.5:5080', 'buyers', 'PJSIP/buyers/sip:buyer@10.0.0.5:5080'],
    ['buyer-a', undefined, 'PJSIP/buyer-a'],
    ['PJSIP/buyer-a', undefined, 'PJSIP/buyer-a'],
  ])('dials %s through %s as %s', (uri, trunk, expected) => {
    expect(buyerEndpoint({ uri }, trunk)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['+15551230001', undefined],
    ['sip:buyer@10.0.0.5', undefined],
    ['sip:buyer@10.0.0.5:70000', 'buyers'],
    ['PJSIP/a,b', 'buyers'],
    ['buyer a', 'buyers'],
    ['+15551230001', 'bad/trunk'],
    // Not destinations under the one rule (app/domain/destination.ts): the config API refuses them too.
    ['sip:{origination_caller_id_number=+1900}x@h', 'buyers'],
    ['sip:buyer@10.0.0.5;transport=tcp', 'buyers'],
  ])('refuses %s (trunk %s)', (uri, trunk) => {
    expect(buyerEndpoint({ uri }, trunk).ok).toBe(false);
  });

  it('builds consumer endpoints, caller ids, Stasis args and tag variables safely', () => {
    expect(consumerEndpoint('+13125550188', 'consumers')).toEqual({ ok: true, value: 'PJSIP/+13125550188@consumers' });
    expect(consumerEndpoint('sip:x@y', 'consumers').ok).toBe(false);
    expect(callerIdParam('+12025550123')).toBe('+12025550123');
    expect(callerIdParam('anonymous')).toBeUndefined();
    expect(callerIdParam('"x" <1>')).toBeUndefined();
    expect(stasisArgs(['buyer', '1795511270.2'])).toEqual({ ok: true, value: 'buyer,1795511270.2' });
    expect(stasisArgs(['outbound', 'a,b']).ok).toBe(false);
    expect(tagVariables({ callx_call_id: 'c-1', callx_target_id: 't 1', other: 'v' })).toEqual({ CALLX_CALL_ID: 'c-1', CALLX_OTHER: 'v' });
  });

  it('maps Q.850 causes to the port and back to ARI hangup reasons', () => {
    expect([17, 18, 19, 21, 34, undefined].map((c) => attemptStatus(c))).toEqual(['busy', 'no_answer', 'no_answer', 'failed', 'failed', 'failed']);
    expect(causeName(17)).toBe('USER_BUSY');
    expect(causeName(19)).toBe('NO_ANSWER');
    expect(causeName(999)).toBe('Q850_999');
    expect(causeName(undefined)).toBe('NORMAL_CLEARING');
    expect(callerHangupCause(127, 487)).toBe('ORIGINATOR_CANCEL');
    expect(callerHangupCause(undefined, undefined)).toBe('NORMAL_CLEARING');
    expect(hangupReason('USER_BUSY')).toBe('busy');
    expect(hangupReason('NO_ANSWER')).toBe('no_answer');
    expect(hangupReason('NORMAL_TEMPORARY_FAILURE')).toBe('congestion');
    expect(hangupReason('SOMETHING_ELSE')).toBe('normal');
  });

  it('reads the call info off a StasisStart channel', () => {
    const info = inboundCallInfo(
      {
        id: '1795511270.2',
        name: 'PJSIP/carrier-00000002',
        state: 'Ring',
        caller: { name: 'Jane', number: '+12025550123' },
        dialplan: { context: 'from-carrier', exten: '+18005550100', priority: 4, app_name: 'Stasis', app_data: 'callx' },
        channelvars: { CALLX_ATTESTATION: 'b', CALLX_LEAD_ID: '', CALLX_ZIP: ' 30301 ' },
      },
      [],
    );
    expect(info).toEqual({
      switchCallId: '1795511270.2',
      switchName: 'asterisk',
      ani: '+12025550123',
      dnis: '+18005550100',
      direction: 'inbound',
      attestation: 'B',
      attestationSource: 'header',
      carrier: { trunk: 'carrier' },
      zip: '30301',
      extra: { channel: 'PJSIP/carrier-00000002', caller_name: 'Jane' },
    });
    expect(readAttestation('TN-Validation-Passed-C')).toBe('C');
    expect(readAttestation('TN-Validation-Failed')).toBeUndefined();
    expect(readAttestation('D')).toBeUndefined();
  });

  it.each([
    ['a verstat in CALLX_IDENTITY', '<sip:+12025550123;verstat=TN-Validation-Passed-B@carrier.example>', undefined, { attestation: 'B', attestationSource: 'verstat' }],
    ['the verstat before a header', '+12025550123;verstat=TN-Validation-Passed-C', 'A', { attestation: 'C', attestationSource: 'verstat' }],
    ['a header alone', undefined, ' a ', { attestation: 'A', attestationSource: 'header' }],
    ['a header with a verstat that has no level', '+12025550123;verstat=TN-Validation-Failed', 'B', { attestation: 'B', attestationSource: 'header' }],
    ['a PAI copied into CALLX_ATTESTATION by an older dialplan', undefined, '<sip:+1202;verstat=TN-Validation-Passed-A@x>', { attestation: 'A', attestationSource: 'verstat' }],
    ['nothing readable', 'sip:+12025550123@carrier.example', 'D', {}],
  ])('attestation from %s', (_name, identity, header, expected) => {
    expect(attestationOf(identity, header)).toEqual(expected);
  });

  it('guards events: only well-formed ones get through, and timestamps read as UTC', () => {
    const ok = parseEvent('{"type":"StasisStart","timestamp":"2026-11-24T09:07:50.955+0000","args":[],"channel":{"id":"1.2","state":"Ring","caller":{"name":"","number":"1"}}}');
    expect(ok.ok).toBe(true);
    if (ok.ok) expect(eventTime(ok.event).toISOString()).toBe('2026-11-24T09:07:50.955Z');
    for (const bad of ['{', '[]', 'null', '{"type":""}', '{"type":"X","channel":{"state":"Up"}}', '{"type":"X","args":[1]}', '{"type":"X","cause":"17"}', '{"type":"X","bridge":{"id":"b"}}']) {
      expect(parseEvent(bad).ok).toBe(false);
    }
  });

  it('tells chatter from the events it reads by the event type alone, wherever the type key sits', () => {
    for (const unread of [
      '{"type":"ChannelVarset","timestamp":"x"}',
      '{"variable":"BRIDGEPEER","value":"x","type":"ChannelVarset"}',
      '{\n  "variable": "type",\n  "type" :\n "BridgeCreated"\n}',
      '{"type":"PlaybackStarted"',
    ]) {
      expect(isUnreadEvent(unread)).toBe(true);
    }
    for (const read of [
      '{"type":"StasisStart","channel":{"id":"1","channelvars":{"CALLX_X":"\\"type\\":\\"ChannelVarset\\""}}}',
      '{"type":"ChannelVarsetX"}',
      '{"type":"StasisEnd","bridge":{"bridge_type":"ChannelVarset"}}',
      '{"type":1,"x":"ChannelVarset"}',
      '{"value":"type","x":"ChannelVarset"}',
      '{"type":"ChannelVars',
      '',
    ]) {
      expect(isUnreadEvent(read)).toBe(false);
    }
  });

  it('tells its own ids from those of an app named as its prefix, or named by its own name plus more', () => {
    const callx = new IdFactory('callx');
    const callxB = new IdFactory('callx-b');
    const made = { callx: ['b', 'o', 'br', 'pb'].map((r) => callx.next(r as 'b')), callxB: ['b', 'o', 'br', 'pb'].map((r) => callxB.next(r as 'b')) };
    for (const id of made.callx) expect([callx.isOurs(id), callxB.isOurs(id)]).toEqual([true, false]);
    for (const id of made.callxB) expect([callx.isOurs(id), callxB.isOurs(id)]).toEqual([false, true]);
    expect(made.callx.map((id) => callx.isBuyerLeg(id))).toEqual([true, false, false, false]);
    expect(made.callxB.map((id) => callx.isBuyerLeg(id) || callxB.isBuyerLeg(id))).toEqual([true, false, false, false]);
    // An id the previous version made (same shape) is still ours after an upgrade; near misses are not.
    expect(callx.roleOf('callx-br-9f0c1b2a-3d4e-4f50-8a6b-7c8d9e0f1a2b')).toBe('br');
    for (const id of ['callx-br-x', 'callx-b-b-9f0c1b2a-3d4e-4f50-8a6b-7c8d9e0f1a2b', 'callx-q-9f0c1b2a-3d4e-4f50-8a6b-7c8d9e0f1a2b', 'callx-b-9f0c1b2a-3d4e-4f50-8a6b-7c8d9e0f1a2bx', '1796656862.1', 'callx-']) {
      expect(callx.isOurs(id)).toBe(false);
    }
  });
});
