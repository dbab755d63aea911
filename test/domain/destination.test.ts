/**
 * The one destination rule (app/domain/destination.ts): what the config API stores is exactly what both switch
 * adapters dial, so a destination the API accepted is never refused at call time.
 */
import { parseDestination } from '../../app/domain/destination';
import { bridgeArgument } from '../../app/switch/freeswitch/dial-string';
import { buyerEndpoint } from '../../app/switch/asterisk/dial';

const accepted: Array<[string, object]> = [
  ['sip:buyer@10.0.0.5', { kind: 'sip', scheme: 'sip', user: 'buyer', host: '10.0.0.5' }],
  ['sips:buyer@buyers.example:5061', { kind: 'sip', scheme: 'sips', user: 'buyer', host: 'buyers.example', port: 5061 }],
  ['SIP:+18135550100@[2001:db8::1]:5080', { kind: 'sip', scheme: 'sip', user: '+18135550100', host: '[2001:db8::1]', port: 5080 }],
  ['sip:ext_1*2#3@pbx-1.example', { kind: 'sip', user: 'ext_1*2#3', host: 'pbx-1.example' }],
  ['+18135550100', { kind: 'number', e164: '+18135550100' }],
  ['18135550100', { kind: 'number', e164: '+18135550100' }],
  ['tel:+442071838750', { kind: 'number', e164: '+442071838750' }],
  ['  sip:buyer@host  ', { kind: 'sip', user: 'buyer', host: 'host' }],
];

const refused = [
  'sip:{origination_caller_id_number=+1900}x@h', // a FreeSWITCH variable block smuggled in the user part
  'sip:a@b,sofia/x/y',
  'sip:a b@host',
  'sip:a@host|sofia/internal/1000',
  'sip:buyer@10.0.0.5;transport=tcp',
  'sip:buyer@host?X-Header=1',
  'sip:a@host:99999',
  'sip:a@host:0',
  'sip:a@-host',
  'sip:@host',
  'sip:a@',
  '1555\n1230001',
  '+0123456789',
  '+1234',
  'ftp://nope',
  'user/1000',
  '',
  `sip:${'a'.repeat(65)}@host`,
  'sip:a\u0000@host',
];

describe('destination rule', () => {
  it.each(accepted)('accepts %j', (raw, parsed) => {
    expect(parseDestination(raw)).toMatchObject({ ok: true, ...parsed });
  });

  // Asterisk's own dial forms, which an operator may use in the switch but the API never stores.
  it.each(['PJSIP/buyer-a', 'buyer-a'])('refuses the Asterisk-only form %j', (raw) => {
    expect(parseDestination(raw).ok).toBe(false);
  });

  it.each(refused)('refuses %j with a reason', (raw) => {
    const r = parseDestination(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/\S/);
  });

  it.each(accepted.map(([raw]) => raw))('both adapters dial %j', (uri) => {
    expect(bridgeArgument({ uri }, { answerTimeoutSec: 5, callerIdNumber: '+12025550123' }, { sofiaProfile: 'external', buyerGateway: 'buyers' }).ok).toBe(true);
    expect(buyerEndpoint({ uri }, 'buyers').ok).toBe(true);
  });

  it.each(refused)('both adapters refuse %j', (uri) => {
    expect(bridgeArgument({ uri }, { answerTimeoutSec: 5, callerIdNumber: '+12025550123' }, { sofiaProfile: 'external', buyerGateway: 'buyers' }).ok).toBe(false);
    expect(buyerEndpoint({ uri }, 'buyers').ok).toBe(false);
  });
});
