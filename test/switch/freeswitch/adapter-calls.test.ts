/**
 * The FreeSWITCH adapter driven through the peer: a scripted handler stands in for the pipeline
 * (answer -> bridge -> outcome), and the peer's call records show what the adapter sent.
 */
import { FreeSwitchAdapter } from '../../../app/switch/freeswitch';
import { silentLogger } from '../../../app/observability/logger';
import { FreeSwitchPeer, type CallSession } from '../../peers/freeswitch';
import { CallQueue, sleep, waitFor, watchEnd } from './helpers';

const TIMEOUTS = { handshakeMs: 1000, hangupCompleteMs: 1000, stallMs: 500, reconnectInitialMs: 50, reconnectMaxMs: 200 };

describe('FreeSWITCH adapter: calls', () => {
  let peer: FreeSwitchPeer;
  let adapter: FreeSwitchAdapter;
  let calls: CallQueue;

  beforeEach(async () => {
    peer = new FreeSwitchPeer();
    const inboundPort = await peer.listenInbound();
    calls = new CallQueue();
    adapter = new FreeSwitchAdapter({
      outboundListen: { host: '127.0.0.1', port: 0 },
      inbound: { host: '127.0.0.1', port: inboundPort, password: 'ClueCon' },
      buyerGateway: 'buyers',
      sofiaProfile: 'external',
      prompts: { no_buyer: 'ivr/ivr-call_cannot_be_completed_as_dialed.wav' },
      logger: silentLogger(),
      timeouts: TIMEOUTS,
    });
    await adapter.start(calls.handler);
  });

  afterEach(async () => {
    await adapter.stop();
    await peer.close();
  });

  const place = (extra: Partial<Parameters<FreeSwitchPeer['placeCall']>[0]> = {}): CallSession =>
    peer.placeCall({ app: { host: '127.0.0.1', port: adapter.port }, ani: '+12025550123', dnis: '+18005550100', ...extra });

  const commandLines = (s: CallSession): string[] => s.commands.map((c) => c.line);
  const executes = (s: CallSession): Array<{ app: string; arg: string }> =>
    s.commands
      .filter((c) => c.line.startsWith('sendmsg'))
      .map((c) => ({
        app: c.headers.find(([h]) => h === 'execute-app-name')?.[1] ?? `(${c.headers.find(([h]) => h === 'call-command')?.[1]})`,
        arg: c.headers.find(([h]) => h === 'execute-app-arg')?.[1] ?? c.headers.find(([h]) => h === 'hangup-cause')?.[1] ?? '',
      }));

  it('hands the call over with its channel data, answers, bridges, and reports the end with durations', async () => {
    peer.buyers.set('+15551230001', { kind: 'answer', afterMs: 20 });
    const session = place({
      sipHeaders: { 'X-Lead-Id': 'lead-7', 'X-Zip': '30301' },
      variables: { sip_verstat_detailed: 'TN-Validation-Passed-A', sip_verstat: 'TN-Validation-Passed' },
      hangupAfterBridgeMs: 150,
    });
    const { leg, info } = await calls.next();
    expect(info).toEqual(
      expect.objectContaining({
        switchCallId: session.channel.uuid,
        switchName: 'freeswitch',
        ani: '+12025550123',
        dnis: '+18005550100',
        direction: 'inbound',
        attestation: 'A',
        leadId: 'lead-7',
        zip: '30301',
      }),
    );
    expect(leg.id).toBe(session.channel.uuid);
    const end = watchEnd(leg);
    await leg.answer();
    const outcome = await leg.bridge({ uri: '+15551230001' }, { answerTimeoutSec: 5, callerIdNumber: info.ani, tags: { callx_call_id: 'c-1' } });
    expect(outcome.status).toBe('bridged');
    const legEnd = await end.ended;
    expect(legEnd.cause).toBe('NORMAL_CLEARING');
    expect(legEnd.hungUpBy).toBe('caller');
    expect(legEnd.answeredAt).toBeInstanceOf(Date);
    expect(legEnd.bridgedAt).toBeInstanceOf(Date);
    const talkMs = legEnd.endedAt.getTime() - (legEnd.bridgedAt as Date).getTime();
    expect(talkMs).toBeGreaterThanOrEqual(120);
    expect(talkMs).toBeLessThan(1000);
    expect(leg.ended).toBe(true);

    const record = await session.finished;
    const lines = commandLines(session);
    // The filter before the subscription, so the listener never sees other channels' events; four commands in all.
    expect(lines.slice(0, 4)).toEqual([
      'connect',
      'linger',
      `filter Unique-ID ${session.channel.uuid}`,
      'event json CHANNEL_BRIDGE CHANNEL_UNBRIDGE CHANNEL_EXECUTE_COMPLETE',
    ]);
    expect(lines).not.toContain('myevents');
    // The caller carries our call id too, and the carrier will get our cause, not a buyer's SIP status: set by one
    // api command (no application, so no EXECUTE_COMPLETE), before the bridge.
    const setvar = `api uuid_setvar_multi ${session.channel.uuid} continue_on_fail=true;hangup_after_bridge=true;sip_ignore_remote_cause=true;callx_call_id=c-1`;
    expect(lines.filter((l) => l.startsWith('api '))).toEqual([setvar]);
    expect(lines.indexOf(setvar)).toBeLessThan(lines.lastIndexOf(`sendmsg ${session.channel.uuid}`));
    expect(session.channel.getVar('callx_call_id')).toBe('c-1');
    expect(executes(session)).toEqual([
      { app: 'answer', arg: '' },
      { app: 'bridge', arg: '{origination_caller_id_number=+12025550123,originate_timeout=5,callx_call_id=c-1}sofia/gateway/buyers/+15551230001' },
    ]);
    // The call over, the app closes its socket: no `exit` round trip for a channel that is gone.
    expect(lines).not.toContain('exit');
    expect(record.closedBy).toBe('app');
    // Only the subscribed events of this channel; the end is the socket application's EXECUTE_COMPLETE (no
    // CHANNEL_HANGUP_COMPLETE, the largest event).
    expect(record.delivered).toEqual([
      'CHANNEL_EXECUTE_COMPLETE', // answer
      'CHANNEL_BRIDGE',
      'linger-notice',
      'CHANNEL_UNBRIDGE',
      'CHANNEL_EXECUTE_COMPLETE', // bridge
      'CHANNEL_EXECUTE_COMPLETE', // socket: the end
    ]);
    expect(end.count()).toBe(1);
  });

  it('fails over on the same leg: a busy buyer, then a second bridge succeeds', async () => {
    peer.buyers.set('buyer1@10.0.0.5', { kind: 'busy', afterMs: 10 });
    peer.buyers.set('buyer2@10.0.0.6:5080', { kind: 'answer', afterMs: 10, hangupAfterMs: 50 });
    const session = place();
    const { leg, info } = await calls.next();
    const end = watchEnd(leg);
    const first = await leg.bridge({ uri: 'sip:buyer1@10.0.0.5' }, { answerTimeoutSec: 5, callerIdNumber: info.ani });
    expect(first).toEqual({ status: 'busy', cause: 'USER_BUSY', detail: 'sip:486' });
    expect(leg.ended).toBe(false);
    const second = await leg.bridge({ uri: 'sip:buyer2@10.0.0.6:5080' }, { answerTimeoutSec: 5, callerIdNumber: info.ani });
    expect(second.status).toBe('bridged');
    const legEnd = await end.ended;
    expect(legEnd.hungUpBy).toBe('buyer');
    const record = await session.finished;
    expect(record.bridges.map((b) => [b.target, b.result])).toEqual([
      ['sofia/external/buyer1@10.0.0.5', 'USER_BUSY'],
      ['sofia/external/buyer2@10.0.0.6:5080', 'SUCCESS'],
    ]);
    // The caller's variables are set once, before the first bridge.
    expect(commandLines(session).filter((l) => l.startsWith('api uuid_setvar_multi'))).toHaveLength(1);
  });

  it('every buyer busy, then our hangup: the carrier receives the cause we hang up with (503), not the buyer 486', async () => {
    peer.buyers.set('buyer1@10.0.0.5', { kind: 'busy', afterMs: 5 });
    const session = place();
    const { leg, info } = await calls.next();
    expect(await leg.bridge({ uri: 'sip:buyer1@10.0.0.5' }, { answerTimeoutSec: 5, callerIdNumber: info.ani })).toEqual(expect.objectContaining({ status: 'busy' }));
    await leg.hangup('NORMAL_TEMPORARY_FAILURE');
    expect((await session.finished).carrierResponse).toBe(503);
  });

  it('a buyer leg refused by the switch throttle is a switch_fault, with no INVITE sent and the caller still up', async () => {
    place();
    const { leg, info } = await calls.next();
    peer.core.setSessionsPerSecond(1, true);
    const outcome = await leg.bridge({ uri: 'sip:buyer1@10.0.0.5' }, { answerTimeoutSec: 5, callerIdNumber: info.ani });
    expect(outcome).toEqual(expect.objectContaining({ status: 'switch_fault', cause: 'DESTINATION_OUT_OF_ORDER' }));
    expect(peer.core.invitesSent).toEqual([]);
    expect(leg.ended).toBe(false);
    await leg.hangup('NORMAL_TEMPORARY_FAILURE');
  });

  it("fits bridge attempts within the switch's park_timeout, and says so when no time is left", async () => {
    peer.buyers.set('+15551230002', { kind: 'no_answer' });
    const session = place({ variables: { park_timeout: '4:NORMAL_TEMPORARY_FAILURE', continue_on_fail: 'true' } });
    const { leg, info } = await calls.next();
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const o = await leg.bridge({ uri: '+15551230002' }, { answerTimeoutSec: 30, callerIdNumber: info.ani });
      outcomes.push(o.status);
      if (o.status !== 'no_answer') break;
    }
    // Attempts shortened to what is left (2 s, then what the whole-second clock left), then no time: a switch
    // fault, before the switch could hang the caller up itself.
    expect(outcomes[0]).toBe('no_answer');
    expect(outcomes[outcomes.length - 1]).toBe('switch_fault');
    const timeouts = executes(session).filter((e) => e.app === 'bridge').map((e) => Number(/originate_timeout=(\d+)/.exec(e.arg)?.[1]));
    expect(timeouts[0]).toBe(2);
    expect(Math.max(...timeouts)).toBeLessThanOrEqual(2);
    expect(leg.ended).toBe(false);
    await leg.hangup('NORMAL_TEMPORARY_FAILURE');
  });

  it('reports no answer after the answer timeout; the caller stays up until the pipeline hangs up', async () => {
    peer.buyers.set('+15551230002', { kind: 'no_answer' });
    const session = place();
    const { leg, info } = await calls.next();
    const end = watchEnd(leg);
    const started = Date.now();
    const outcome = await leg.bridge({ uri: '+15551230002' }, { answerTimeoutSec: 1, callerIdNumber: info.ani });
    expect(outcome).toEqual({ status: 'no_answer', cause: 'NO_ANSWER' });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(leg.ended).toBe(false);
    await leg.hangup('NO_ANSWER');
    const legEnd = await end.ended;
    expect(legEnd).toEqual(expect.objectContaining({ cause: 'NO_ANSWER', hungUpBy: 'system' }));
    expect((await session.finished).hangupBy).toBe('app');
  });

  it('failures map to failed with the cause (e.g. UNALLOCATED_NUMBER); bad destinations are refused locally', async () => {
    peer.buyers.set('+15551230003', { kind: 'fail', cause: 'UNALLOCATED_NUMBER' });
    place();
    const { leg, info } = await calls.next();
    expect(await leg.bridge({ uri: '+15551230003' }, { answerTimeoutSec: 5, callerIdNumber: info.ani })).toEqual({
      status: 'failed',
      cause: 'UNALLOCATED_NUMBER',
      detail: 'sip:404',
    });
    const refused = await leg.bridge({ uri: 'sip:evil@host,sofia/x' }, { answerTimeoutSec: 5, callerIdNumber: info.ani });
    expect(refused.status).toBe('failed');
    await leg.hangup('NORMAL_CLEARING');
  });

  it('caller hangs up mid-decision (before any bridge): bridge settles caller_gone, onEnded fires once', async () => {
    const session = place({ hangupAfterMs: 30 });
    const { leg, info } = await calls.next();
    const end = watchEnd(leg);
    const legEnd = await end.ended;
    expect(legEnd).toEqual(expect.objectContaining({ cause: 'ORIGINATOR_CANCEL', hungUpBy: 'caller' }));
    expect(legEnd.answeredAt).toBeUndefined();
    const outcome = await leg.bridge({ uri: '+15551230001' }, { answerTimeoutSec: 5, callerIdNumber: info.ani });
    expect(outcome).toEqual({ status: 'caller_gone', cause: 'ORIGINATOR_CANCEL' });
    await expect(leg.answer()).rejects.toThrow('the caller leg is gone');
    await leg.hangup('NORMAL_CLEARING');
    await leg.playAndHangup('no_buyer', 'NORMAL_CLEARING');
    await session.finished;
    await sleep(20);
    expect(end.count()).toBe(1);
  });

  it('caller hangs up while the buyer rings: the bridge settles caller_gone and the leg ends once', async () => {
    peer.buyers.set('+15551230002', { kind: 'no_answer' });
    const session = place();
    const { leg, info } = await calls.next();
    const end = watchEnd(leg);
    await leg.answer();
    const pending = leg.bridge({ uri: '+15551230002' }, { answerTimeoutSec: 30, callerIdNumber: info.ani });
    await waitFor(() => session.record.bridges.length === 1, 2000, 'the bridge to start');
    session.callerHangup();
    expect(await pending).toEqual({ status: 'caller_gone', cause: 'NORMAL_CLEARING' });
    const legEnd = await end.ended;
    expect(legEnd.hungUpBy).toBe('caller');
    await session.finished;
    expect(end.count()).toBe(1);
  });

  it('playAndHangup plays the configured prompt, then hangs up with the cause', async () => {
    peer.prompts.set('ivr/ivr-call_cannot_be_completed_as_dialed.wav', 30);
    const session = place();
    const { leg } = await calls.next();
    const end = watchEnd(leg);
    await leg.playAndHangup('no_buyer', 'NO_ROUTE_DESTINATION');
    const legEnd = await end.ended;
    expect(legEnd).toEqual(expect.objectContaining({ cause: 'NO_ROUTE_DESTINATION', hungUpBy: 'system' }));
    await session.finished;
    expect(executes(session)).toEqual([
      { app: 'playback', arg: 'ivr/ivr-call_cannot_be_completed_as_dialed.wav' },
      { app: '(hangup)', arg: 'NO_ROUTE_DESTINATION' },
    ]);
  });

  it('playAndHangup with an unknown prompt just hangs up', async () => {
    const session = place();
    const { leg } = await calls.next();
    await leg.playAndHangup('no_such_prompt', 'CALL_REJECTED');
    await session.finished;
    expect(executes(session)).toEqual([{ app: '(hangup)', arg: 'CALL_REJECTED' }]);
    expect(session.record.hangupCause).toBe('CALL_REJECTED');
  });

  it('a handler that throws gets the call hung up, not dropped', async () => {
    await adapter.stop();
    adapter = new FreeSwitchAdapter({
      outboundListen: { host: '127.0.0.1', port: 0 },
      inbound: { host: '127.0.0.1', port: 1, password: 'x' },
      sofiaProfile: 'external',
      prompts: {},
      logger: silentLogger(),
      timeouts: TIMEOUTS,
    });
    await adapter.start(() => {
      throw new Error('pipeline bug');
    });
    const record = await place().finished;
    expect(record.hangupCause).toBe('NORMAL_TEMPORARY_FAILURE');
  });
});
