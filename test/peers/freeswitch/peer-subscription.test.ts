/**
 * What the FreeSWITCH peer sends for the subscription the exchange's outbound socket makes (outbound-server.ts:
 * `linger`, `filter Unique-ID <own uuid>`, `event json` of CALL_EVENTS; the call's variables set with
 * `api uuid_setvar_multi`, which makes no event): the events a real FreeSWITCH 1.10.12 sends for it, in its order,
 * each about as big as recorded. The CPS benchmark's CPU per call rests on this: a switch's events are several KB
 * of JSON each. Recorded sizes (JSON bodies, lib-esl-outbound-A-happy-linger of the shared fixtures, a bridged
 * call): CHANNEL_BRIDGE 7,648, CHANNEL_UNBRIDGE 8,268, CHANNEL_EXECUTE_COMPLETE (bridge) 8,320,
 * CHANNEL_EXECUTE_COMPLETE (socket: the call's end, read instead of CHANNEL_HANGUP_COMPLETE's 11,292) 8,255.
 */
import { CALL_EVENTS } from '../../../app/switch/freeswitch/esl-socket';
import { FreeSwitchPeer } from './index';
import { RawAppServer, frameHeader, parseEvent, type WireFrame } from './raw-esl';

const RECORDED: Array<[string, number]> = [
  ['CHANNEL_BRIDGE', 7648],
  ['CHANNEL_UNBRIDGE', 8268],
  ['CHANNEL_EXECUTE_COMPLETE', 8320],
  ['CHANNEL_EXECUTE_COMPLETE', 8255],
];

const isEvent = (f: WireFrame): boolean => /^text\/event-/.test(frameHeader(f, 'Content-Type') ?? '');

describe("FreeSWITCH peer: the events of a bridged call for the exchange's subscription", () => {
  let peer: FreeSwitchPeer;
  let app: RawAppServer;

  beforeEach(async () => {
    peer = new FreeSwitchPeer();
    app = new RawAppServer();
  });

  afterEach(async () => {
    await peer.close();
    await app.close();
  });

  it('four events, in the recorded order and of the recorded size (the bridge\'s and the socket\'s completions, no B-leg, no hangup event)', async () => {
    const port = await app.listen();
    peer.buyers.set('buyer@127.0.0.1:5090', { kind: 'answer', afterMs: 10 });
    peer.placeCall({ app: { host: '127.0.0.1', port }, ani: '+12025550123', dnis: '+18005550100', hangupAfterBridgeMs: 50 });
    const esl = await app.accept();
    const uuid = frameHeader(await esl.command('connect'), 'Unique-ID');
    await esl.command('linger');
    await esl.command(`filter Unique-ID ${uuid}`);
    await esl.command(`event json ${CALL_EVENTS.join(' ')}`);
    await esl.command(`api uuid_setvar_multi ${uuid} callx_call_id=c1;hangup_after_bridge=true`);
    esl.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'bridge', 'execute-app-arg': 'sofia/external/buyer@127.0.0.1:5090', 'event-uuid': 'ev-bridge' });
    const name = (f: WireFrame): string | undefined => parseEvent(f).get('Event-Name');
    const deadline = Date.now() + 10_000;
    const socketDone = (f: WireFrame): boolean => isEvent(f) && name(f) === 'CHANNEL_EXECUTE_COMPLETE' && parseEvent(f).get('Application') === 'socket';
    while (!esl.frames.some(socketDone) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const events = esl.frames.filter(isEvent);
    esl.send('exit');
    await esl.waitClosed(10_000);

    expect(events.map((f) => [name(f), parseEvent(f).get('Unique-ID')])).toEqual(RECORDED.map(([n]) => [n, uuid]));
    expect(parseEvent(events[2]!).get('Application')).toBe('bridge');
    expect(parseEvent(events[3]!).get('Application')).toBe('socket');
    events.forEach((f, i) => {
      const size = Buffer.byteLength(f.body ?? '');
      const recorded = RECORDED[i]![1];
      expect(size).toBeGreaterThan(recorded * 0.75);
      expect(size).toBeLessThan(recorded * 1.25);
    });
  });
});
