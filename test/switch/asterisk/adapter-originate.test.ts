/**
 * Calls the exchange places to consumers through the Asterisk adapter: answered calls come back to the same
 * handler as outbound legs; busy, no answer, unknown trunk and bad numbers are failures; nothing dangles.
 */
import { expectNothingDangles, startRig, stopRig, watchEnd, type Rig } from './helpers';

const REQ = { to: '+13125550188', callerIdNumber: '+18005550100', answerTimeoutSec: 5, callId: 'call-42', campaignId: 'camp-7' };

describe('Asterisk adapter: originate', () => {
  let rig: Rig;

  beforeEach(async () => {
    rig = await startRig();
  });

  afterEach(async () => {
    await stopRig(rig);
  });

  it('hands an answered consumer call to the handler as outbound, and it can be bridged to a buyer', async () => {
    rig.peer.consumers.set('+13125550188', { kind: 'answer', afterMs: 20 });
    rig.peer.buyers.set('buyer-a', { kind: 'answer', afterMs: 5 });
    const result = await rig.adapter.originate(REQ);
    expect(result).toEqual({ status: 'answered' });
    const { leg, info } = await rig.calls.next();
    expect(info).toEqual({
      switchCallId: leg.id,
      switchName: 'asterisk',
      ani: '+13125550188',
      dnis: '+18005550100',
      direction: 'outbound',
      campaignId: 'camp-7',
      callId: 'call-42',
      extra: { callx_call_id: 'call-42' },
    });
    expect(leg.id.startsWith('callx-o-')).toBe(true);
    const [consumer] = rig.peer.originated;
    expect(consumer?.target.resource).toBe('+13125550188@consumers');
    expect(consumer?.appArgs).toEqual(['outbound', 'call-42', 'camp-7']);
    expect(consumer?.callerId).toEqual({ name: '', number: '+18005550100' });
    expect(rig.peer.channel(leg.id)?.vars.get('CALLX_CAMPAIGN_ID')).toBe('camp-7');

    const end = watchEnd(leg);
    expect((await leg.bridge({ uri: 'buyer-a' }, { answerTimeoutSec: 5, callerIdNumber: info.ani })).status).toBe('bridged');
    rig.peer.hangupFarEnd(leg.id); // the consumer hangs up
    const legEnd = await end.ended;
    expect(legEnd).toEqual(expect.objectContaining({ hungUpBy: 'caller', cause: 'NORMAL_CLEARING' }));
    expect(legEnd.answeredAt).toBeInstanceOf(Date);
    await expectNothingDangles(rig);
    expect(end.count()).toBe(1);
  });

  it("carries the request's zip and lead id on the consumer leg, and the answered leg reads them back", async () => {
    rig.peer.consumers.set('+13125550188', { kind: 'answer', afterMs: 5 });
    expect(await rig.adapter.originate({ ...REQ, zip: '39201', leadId: 'lead-42' })).toEqual({ status: 'answered' });
    const { leg, info } = await rig.calls.next();
    expect(rig.peer.channel(leg.id)?.vars.get('CALLX_ZIP')).toBe('39201');
    expect(rig.peer.channel(leg.id)?.vars.get('CALLX_LEAD_ID')).toBe('lead-42');
    expect(info).toMatchObject({ zip: '39201', leadId: 'lead-42', callId: 'call-42' });
    const end = watchEnd(leg);
    rig.peer.hangupFarEnd(leg.id);
    await end.ended;
  });

  it('stopping with an answered consumer call not yet bridged hangs it up (no dialplan behind it to fall back to)', async () => {
    await stopRig(rig);
    rig = await startRig({ adapter: { timeouts: { stopDrainMs: 100 } } });
    rig.peer.consumers.set('+13125550188', { kind: 'answer', afterMs: 5 });
    expect(await rig.adapter.originate(REQ)).toEqual({ status: 'answered' });
    const { leg } = await rig.calls.next();
    const end = watchEnd(leg);
    await rig.adapter.stop();
    expect(await end.ended).toEqual(expect.objectContaining({ hungUpBy: 'system', cause: 'NORMAL_TEMPORARY_FAILURE' }));
    expect(rig.peer.requests.some((r) => r.path.startsWith(`/ari/channels/${leg.id}/continue`))).toBe(false);
    expect(rig.peer.originated[0]?.endedBy).toBe('app');
    expect(rig.peer.channels()).toEqual([]);
  });

  it('reports busy and no answer from ChannelDestroyed, without handing anything over', async () => {
    rig.peer.consumers.set('+13125550001', { kind: 'busy', afterMs: 5 });
    rig.peer.consumers.set('+13125550002', { kind: 'no_answer' });
    expect(await rig.adapter.originate({ ...REQ, to: '+13125550001' })).toEqual({ status: 'failed', cause: 'USER_BUSY' });
    expect(await rig.adapter.originate({ ...REQ, to: '+13125550002', answerTimeoutSec: 1 })).toEqual({ status: 'failed', cause: 'NO_ANSWER' });
    expect(rig.calls.all).toHaveLength(0);
    await expectNothingDangles(rig);
  });

  it('refuses a bad number, and reports an unknown trunk (Allocation failed) as a failure', async () => {
    expect(await rig.adapter.originate({ ...REQ, to: 'not-a-number' })).toEqual(expect.objectContaining({ status: 'failed', cause: 'INVALID_NUMBER_FORMAT' }));
    await stopRig(rig);
    rig = await startRig({ adapter: { consumerTrunk: 'nosuchtrunk' } });
    expect(await rig.adapter.originate(REQ)).toEqual({ status: 'failed', cause: 'NO_ROUTE_DESTINATION', detail: 'Allocation failed' });
    await expectNothingDangles(rig);
  });

  it('refuses to originate while not connected to the switch', async () => {
    rig.peer.setUnreachable(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(await rig.adapter.originate(REQ)).toEqual({ status: 'failed', cause: 'NORMAL_TEMPORARY_FAILURE', detail: 'not connected to the switch' });
    rig.peer.setUnreachable(false);
  });
});
