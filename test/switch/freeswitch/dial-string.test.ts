/**
 * Bridge arguments and originate commands: endpoints, timeouts in whole seconds, and refusal of anything that
 * could change what FreeSWITCH executes.
 */
import { bridgeArgument, originateCommand } from '../../../app/switch/freeswitch/dial-string';
import { callInfoFromChannelData } from '../../../app/switch/freeswitch/channel-data';
import { EslHeaders } from '../../../app/switch/freeswitch/headers';

const cfg = { sofiaProfile: 'external', buyerGateway: 'buyers' };

describe('dial strings', () => {
  it('bridges a SIP URI through the sofia profile and a number through the buyer gateway', () => {
    expect(bridgeArgument({ uri: 'sip:buyer@10.0.0.5:5070' }, { answerTimeoutSec: 20, callerIdNumber: '+12025550123' }, cfg)).toEqual({
      ok: true,
      value: '{origination_caller_id_number=+12025550123,originate_timeout=20}sofia/external/buyer@10.0.0.5:5070',
      dropped: [],
    });
    expect(bridgeArgument({ uri: '+15551230001' }, { answerTimeoutSec: 2.2, callerIdNumber: '+12025550123', tags: { call_id: 'c-1' } }, cfg)).toEqual({
      ok: true,
      value: '{origination_caller_id_number=+12025550123,originate_timeout=3,callx_call_id=c-1}sofia/gateway/buyers/+15551230001',
      dropped: [],
    });
  });

  it('tags already named callx_* (as the call flow passes them) are not prefixed twice', () => {
    const r = bridgeArgument({ uri: '+15551230001' }, { answerTimeoutSec: 5, callerIdNumber: '+12025550123', tags: { callx_call_id: 'c-1', callx_target_id: 't-1' } }, cfg);
    expect(r).toEqual({
      ok: true,
      value: '{origination_caller_id_number=+12025550123,originate_timeout=5,callx_call_id=c-1,callx_target_id=t-1}sofia/gateway/buyers/+15551230001',
      dropped: [],
    });
  });

  it('refuses a timeout that is not a positive number', () => {
    for (const answerTimeoutSec of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(bridgeArgument({ uri: '+15551230001' }, { answerTimeoutSec, callerIdNumber: '1' }, cfg).ok).toBe(false);
    }
  });

  it('needs a gateway for numbers', () => {
    const r = bridgeArgument({ uri: '+15551230001' }, { answerTimeoutSec: 5, callerIdNumber: '1' }, { sofiaProfile: 'external' });
    expect(r).toEqual({ ok: false, reason: 'no gateway configured to dial the number +15551230001' });
  });

  it.each(['sip:a@b,sofia/x/y', 'sip:a b@host', 'sip:a@host|sofia/internal/1000', 'sip:{x=1}a@host', '1555\n1230001', 'user/1000', 'sip:a@host:99999', 'sip:{origination_caller_id_number=+1900}x@h', 'sip:buyer@10.0.0.5;transport=tcp'])(
    'refuses %j',
    (uri) => {
      expect(bridgeArgument({ uri }, { answerTimeoutSec: 5, callerIdNumber: '1' }, cfg).ok).toBe(false);
    },
  );

  it('leaves out caller ids and tags with unsafe characters', () => {
    const r = bridgeArgument({ uri: '+15551230001' }, { answerTimeoutSec: 5, callerIdNumber: '1,x=2', tags: { 'bad key': 'v', ok: 'a}b' } }, cfg);
    expect(r).toEqual({ ok: true, value: '{originate_timeout=5}sofia/gateway/buyers/+15551230001', dropped: ['origination_caller_id_number', 'callx_bad key', 'callx_ok'] });
  });

  it('builds the originate command with the socket application for the answered leg', () => {
    const r = originateCommand(
      { to: '+13125550199', callerIdNumber: '+18005550100', answerTimeoutSec: 30, callId: 'call-1', campaignId: 'camp-1' },
      { ...cfg, consumerGateway: 'carrier', socketAddress: '10.0.0.2:8084' },
    );
    expect(r).toEqual({
      ok: true,
      value:
        "originate {origination_caller_id_number=+18005550100,originate_timeout=30,ignore_early_media=true,callx_call_id=call-1,callx_campaign_id=camp-1}sofia/gateway/carrier/+13125550199 '&socket(10.0.0.2:8084 async full)'",
      dropped: [],
    });
    const bad = originateCommand(
      { to: '+13125550199', callerIdNumber: '1', answerTimeoutSec: 30, callId: 'a,b', campaignId: 'c' },
      { ...cfg, socketAddress: '10.0.0.2:8084' },
    );
    expect(bad.ok).toBe(false);
  });

  it("carries the request's zip and lead id on the consumer leg, where the answered leg is read back (callx_zip, callx_lead_id)", () => {
    const sock = { ...cfg, consumerGateway: 'carrier', socketAddress: '10.0.0.2:8084' };
    const req = { to: '+13125550199', callerIdNumber: '+18005550100', answerTimeoutSec: 30, callId: 'call-1', campaignId: 'camp-1' };
    const r = originateCommand({ ...req, zip: '39201', leadId: 'lead-42' }, sock);
    expect(r).toEqual({
      ok: true,
      value:
        "originate {origination_caller_id_number=+18005550100,originate_timeout=30,ignore_early_media=true,callx_call_id=call-1,callx_campaign_id=camp-1,callx_zip=39201,callx_lead_id=lead-42}sofia/gateway/carrier/+13125550199 '&socket(10.0.0.2:8084 async full)'",
      dropped: [],
    });
    // What FreeSWITCH hands the app for that leg reads back as the call's zip and lead id.
    const vars = /^originate \{([^}]*)\}/.exec(r.ok ? r.value : '')![1]!.split(',').map((kv) => kv.split('=') as [string, string]);
    const info = callInfoFromChannelData(new EslHeaders({ 'Call-Direction': 'outbound', ...Object.fromEntries(vars.map(([k, v]) => [`variable_${k}`, v])) }));
    expect(info).toMatchObject({ zip: '39201', leadId: 'lead-42', callId: 'call-1', campaignId: 'camp-1' });
    // A lead id a dial string cannot carry is left off (and said so); the call is still placed.
    const odd = originateCommand({ ...req, zip: '39201', leadId: 'lead 42,x=y' }, sock);
    expect(odd).toMatchObject({ ok: true, dropped: ['callx_lead_id'] });
    expect(odd.ok && odd.value).toContain('callx_zip=39201}');
  });
});
