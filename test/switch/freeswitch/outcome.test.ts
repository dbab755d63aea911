/**
 * Bridge outcomes and who hung up, from the variables FreeSWITCH puts on the events (see the fixtures).
 */
import { EslHeaders } from '../../../app/switch/freeswitch/headers';
import { failureStatus, hungUpBy, outcomeFromBridgeComplete } from '../../../app/switch/freeswitch/outcome';

describe('bridge outcome', () => {
  it.each([
    ['USER_BUSY', 'busy'],
    ['NO_ANSWER', 'no_answer'],
    ['NO_USER_RESPONSE', 'no_answer'],
    ['ALLOTTED_TIMEOUT', 'no_answer'],
    ['NORMAL_TEMPORARY_FAILURE', 'failed'],
    ['UNALLOCATED_NUMBER', 'failed'],
    ['CALL_REJECTED', 'failed'],
  ])('%s is %s', (cause, status) => {
    expect(failureStatus(cause)).toBe(status);
  });

  it('reads a busy EXECUTE_COMPLETE as recorded (caller still up)', () => {
    const h = new EslHeaders({
      'Answer-State': 'answered',
      variable_originate_disposition: 'USER_BUSY',
      variable_originate_failed_cause: 'USER_BUSY',
      variable_last_bridge_proto_specific_hangup_cause: 'sip:486',
    });
    expect(outcomeFromBridgeComplete(h, false)).toEqual({ status: 'busy', cause: 'USER_BUSY', detail: 'sip:486' });
  });

  it('is caller_gone when the caller leg is down (no continue_on_fail, or the caller left)', () => {
    const h = new EslHeaders({ 'Answer-State': 'hangup', 'Hangup-Cause': 'USER_BUSY', variable_originate_disposition: 'USER_BUSY' });
    expect(outcomeFromBridgeComplete(h, true)).toEqual({ status: 'caller_gone', cause: 'USER_BUSY' });
    const cancel = new EslHeaders({ variable_originate_disposition: 'ORIGINATOR_CANCEL' });
    expect(outcomeFromBridgeComplete(cancel, false).status).toBe('caller_gone');
  });

  it('a buyer leg the switch refused itself (throttle, as recorded in I) is a switch fault, not the buyer failing', () => {
    const h = new EslHeaders({
      'Answer-State': 'ringing',
      'Application-Response': '_none_',
      variable_originate_disposition: 'DESTINATION_OUT_OF_ORDER',
      variable_DIALSTATUS: 'INVALIDARGS',
      variable_originate_failed_cause: 'DESTINATION_OUT_OF_ORDER',
    });
    expect(outcomeFromBridgeComplete(h, false)).toEqual(expect.objectContaining({ status: 'switch_fault', cause: 'DESTINATION_OUT_OF_ORDER' }));
  });

  it('a SUCCESS disposition seen without CHANNEL_BRIDGE is still bridged', () => {
    const h = new EslHeaders({ variable_originate_disposition: 'SUCCESS', variable_bridge_uepoch: '1795511095991092' });
    expect(outcomeFromBridgeComplete(h, false)).toEqual({ status: 'bridged', answeredAt: new Date(1795511095991) });
  });
});

describe('who hung up', () => {
  const base = { requestedByUs: false, wasBridged: false, unbridgedFirst: false, sipDisposition: undefined };
  it.each([
    [{ ...base, sipDisposition: 'recv_bye' }, 'caller'],
    [{ ...base, sipDisposition: 'recv_cancel' }, 'caller'],
    [{ ...base, requestedByUs: true, sipDisposition: 'send_bye' }, 'system'],
    [{ ...base, wasBridged: true, unbridgedFirst: true, sipDisposition: 'send_bye' }, 'buyer'],
    [{ ...base, wasBridged: true, sipDisposition: 'recv_bye' }, 'caller'],
    [{ ...base, sipDisposition: 'send_refuse' }, 'system'],
    [base, 'unknown'],
  ])('%j -> %s', (facts, who) => {
    expect(hungUpBy(facts)).toBe(who);
  });
});
