/**
 * Malformed ESL input closes only the connection it arrived on, with a logged reason: garbage frames, bad
 * Content-Length, invalid JSON, a frame that stalls half-way, a switch that never answers the handshake.
 * Every other call goes on.
 */
import { FreeSwitchAdapter } from '../../../app/switch/freeswitch';
import { FreeSwitchPeer, type CallSession } from '../../peers/freeswitch';
import { CallQueue, capturingLogger, waitFor, watchEnd } from './helpers';

describe('FreeSWITCH adapter: malformed input', () => {
  let peer: FreeSwitchPeer;
  let adapter: FreeSwitchAdapter;
  let calls: CallQueue;
  let lines: () => Array<Record<string, unknown>>;

  beforeEach(async () => {
    peer = new FreeSwitchPeer();
    const inboundPort = await peer.listenInbound();
    calls = new CallQueue();
    const captured = capturingLogger();
    lines = captured.lines;
    adapter = new FreeSwitchAdapter({
      outboundListen: { host: '127.0.0.1', port: 0 },
      inbound: { host: '127.0.0.1', port: inboundPort, password: 'ClueCon' },
      buyerGateway: 'buyers',
      sofiaProfile: 'external',
      prompts: {},
      logger: captured.logger,
      timeouts: { handshakeMs: 400, stallMs: 300, hangupCompleteMs: 1000 },
    });
    await adapter.start(calls.handler);
  });

  afterEach(async () => {
    await adapter.stop();
    await peer.close();
  });

  const place = (extra: { variables?: Record<string, string> } = {}): CallSession =>
    peer.placeCall({ app: { host: '127.0.0.1', port: adapter.port }, ani: '+12025550123', dnis: '+18005550100', ...extra });

  const closeReasons = (): string[] =>
    lines()
      .filter((l) => l.msg === 'closing ESL connection')
      .map((l) => String(l.reason));

  async function expectOnlyThisCallCut(bytes: string, reason: RegExp): Promise<void> {
    peer.buyers.set('+15551230001', { kind: 'answer', afterMs: 10, hangupAfterMs: 50 });
    const bad = place();
    const good = place();
    const first = await calls.next();
    const second = await calls.next();
    const [badCall, goodCall] = first.info.switchCallId === bad.channel.uuid ? [first, second] : [second, first];
    const badEnd = watchEnd(badCall.leg);
    // The call is handed over before its event subscription is confirmed; the bad bytes come after it.
    await waitFor(() => bad.subscription.enabled && good.subscription.enabled, 3000, 'event subscriptions');
    bad.write(bytes);
    const end = await badEnd.ended;
    expect(end.hungUpBy).toBe('unknown');
    expect(end.cause).toBe('NORMAL_TEMPORARY_FAILURE');
    expect(badCall.leg.ended).toBe(true);
    expect((await bad.finished).releasedToDialplan).toBe(true);
    expect(closeReasons().some((r) => reason.test(r))).toBe(true);
    // The other call is untouched.
    expect(goodCall.leg.ended).toBe(false);
    const outcome = await goodCall.leg.bridge({ uri: '+15551230001' }, { answerTimeoutSec: 5, callerIdNumber: goodCall.info.ani });
    expect(outcome.status).toBe('bridged');
    await good.finished;
  }

  it('a frame without Content-Type', async () => {
    await expectOnlyThisCallCut('this is not ESL\n\n', /malformed ESL input: frame without Content-Type/);
  });

  it('a Content-Length that is not a number', async () => {
    await expectOnlyThisCallCut('Content-Length: 12abc\nContent-Type: text/event-json\n\n', /bad Content-Length/);
  });

  it('an event that is not valid JSON', async () => {
    await expectOnlyThisCallCut('Content-Length: 5\nContent-Type: text/event-json\n\n{oops', /invalid JSON event/);
  });

  it('headers that never end', async () => {
    await expectOnlyThisCallCut('x'.repeat(300 * 1024), /no end of headers/);
  });

  it('a frame that stops half-way (stalled peer)', async () => {
    await expectOnlyThisCallCut('Content-Length: 500\nContent-Type: text/event-json\n\n{"Event-Name":', /stalled ESL peer/);
  });

  it('a switch that never answers connect: closed after the handshake timeout, no call handed over', async () => {
    // socket_resume as callx.xml sets it: without it a socket closed before `connect` leaves the call parked (fact 14).
    const stalled = place({ variables: { socket_resume: 'true' } });
    stalled.stalled = true;
    const record = await stalled.finished;
    expect(record.releasedToDialplan).toBe(true);
    expect(closeReasons().some((r) => /no reply to 'connect' within 400 ms/.test(r))).toBe(true);
    await expect(calls.next(100)).rejects.toThrow('no call was handed over');
    // And the server still takes calls.
    const ok = place();
    const { leg } = await calls.next();
    await leg.hangup('NORMAL_CLEARING');
    await ok.finished;
    await waitFor(() => adapter.isConnected(), 2000, 'the inbound connection');
  });
});
