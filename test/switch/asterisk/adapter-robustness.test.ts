/**
 * The Asterisk adapter when things break: a channel that vanishes (404) mid-flow, the events WebSocket dropping
 * (calls go on; after the reconnect the adapter reconciles with GET /channels and /bridges), events lost while
 * the app stayed registered, leftovers on the switch, malformed or unknown events, a switch that is down at
 * start, and stopping with calls in progress.
 */
import { LegGoneError } from '../../../app/switch/asterisk';
import { RawAri } from '../../peers/asterisk/raw-ari';
import { expectNothingDangles, sleep, startRig, stopRig, waitFor, watchEnd, type Rig } from './helpers';

const CALLER = { ani: '+12025550123', dnis: '+18005550100' };

describe('Asterisk adapter: robustness', () => {
  let rig: Rig;

  afterEach(async () => {
    await stopRig(rig);
  });

  describe('stopping with calls in progress', () => {
    const bridgedCall = async () => {
      rig.peer.buyers.set('buyer-a', { kind: 'answer', afterMs: 5 });
      const placed = rig.peer.placeCall(CALLER);
      const { leg, info } = await rig.calls.next();
      const end = watchEnd(leg);
      expect((await leg.bridge({ uri: 'buyer-a' }, { answerTimeoutSec: 5, callerIdNumber: info.ani })).status).toBe('bridged');
      return { placed, leg, end };
    };

    // What happens once the drain time is over: adapter-survival.test.ts.
    it('a call in progress goes on until it ends, with its events, and a call arriving meanwhile is refused', async () => {
      rig = await startRig({ adapter: { timeouts: { stopDrainMs: 5000 } } });
      const { placed, leg, end } = await bridgedCall();
      const stopping = rig.adapter.stop();
      await sleep(150);
      expect(leg.ended).toBe(false);
      const late = rig.peer.placeCall({ ani: '+12025550124', dnis: CALLER.dnis });
      await waitFor(() => !rig.peer.channels().some((c) => c.id === late.channelId), 3000, 'the late call to go to the fallback');
      expect((await late.finished).endedBy).toBe('fallback');
      expect(rig.calls.all).toHaveLength(1);
      placed.hangup();
      expect((await end.ended).hungUpBy).toBe('caller');
      await stopping;
      await expectNothingDangles(rig);
    });
  });

  describe('a channel that vanishes (404) mid-flow', () => {
    beforeEach(async () => {
      rig = await startRig();
    });

    it('the caller vanishes while the buyer rings: caller_gone once the buyer answers, the leg ends, nothing is left', async () => {
      rig.peer.buyers.set('buyer-a', { kind: 'answer', afterMs: 80 });
      const placed = rig.peer.placeCall(CALLER);
      const { leg, info } = await rig.calls.next();
      await leg.answer();
      const end = watchEnd(leg);
      const pending = leg.bridge({ uri: 'buyer-a' }, { answerTimeoutSec: 5, callerIdNumber: info.ani });
      await waitFor(() => rig.peer.originated.length === 1);
      rig.peer.vanish(placed.channelId);
      const outcome = await pending;
      expect(outcome.status).toBe('caller_gone');
      const legEnd = await end.ended;
      expect(legEnd.hungUpBy).toBe('unknown');
      expect(leg.ended).toBe(true);
      // addChannel answered 400 "Channel not found"; the adapter checked who was gone.
      expect(rig.peer.requests.some((r) => r.path.includes('/addChannel') && r.status === 400)).toBe(true);
      await expectNothingDangles(rig);
      expect(end.count()).toBe(1);
    });

    it('answer on a vanished caller: LegGoneError, and the leg is reported ended', async () => {
      const placed = rig.peer.placeCall(CALLER);
      const { leg } = await rig.calls.next();
      const end = watchEnd(leg);
      rig.peer.vanish(placed.channelId);
      await expect(leg.answer()).rejects.toBeInstanceOf(LegGoneError);
      expect((await end.ended).hungUpBy).toBe('unknown');
      await expect(leg.playAndHangup('no_buyer', 'NORMAL_CLEARING')).resolves.toBeUndefined();
      await expect(leg.hangup('NORMAL_CLEARING')).resolves.toBeUndefined();
      expect(await leg.bridge({ uri: 'buyers' }, { answerTimeoutSec: 1, callerIdNumber: '+1' })).toEqual({ status: 'caller_gone', cause: 'NORMAL_CLEARING' });
      await expectNothingDangles(rig);
    });

    it('the bridged buyer vanishes: the call goes on, and the caller hanging up cleans up without errors', async () => {
      rig.peer.buyers.set('buyer-a', { kind: 'answer', afterMs: 5 });
      const placed = rig.peer.placeCall(CALLER);
      const { leg, info } = await rig.calls.next();
      const end = watchEnd(leg);
      expect((await leg.bridge({ uri: 'buyer-a' }, { answerTimeoutSec: 5, callerIdNumber: info.ani })).status).toBe('bridged');
      rig.peer.vanish(rig.peer.originated[0]?.channelId as string);
      placed.hangup();
      expect((await end.ended).hungUpBy).toBe('caller');
      await expectNothingDangles(rig);
      expect(rig.peer.requests.some((r) => r.method === 'DELETE' && r.path.startsWith('/ari/channels/callx-b-') && r.status === 404)).toBe(true);
    });

    it('hangup of a channel that is already gone reports the end instead of waiting', async () => {
      const placed = rig.peer.placeCall(CALLER);
      const { leg } = await rig.calls.next();
      const end = watchEnd(leg);
      rig.peer.vanish(placed.channelId);
      const started = Date.now();
      await leg.hangup('NORMAL_CLEARING');
      expect(Date.now() - started).toBeLessThan(500);
      expect((await end.ended).cause).toBe('NORMAL_CLEARING');
      await expectNothingDangles(rig);
    });
  });

  describe('the events WebSocket', () => {
    beforeEach(async () => {
      rig = await startRig();
    });

    it('drops and reconnects; a bridged call goes on, and ends normally afterwards', async () => {
      rig.peer.buyers.set('buyer-a', { kind: 'answer', afterMs: 5 });
      const placed = rig.peer.placeCall(CALLER);
      const { leg, info } = await rig.calls.next();
      const end = watchEnd(leg);
      expect((await leg.bridge({ uri: 'buyer-a' }, { answerTimeoutSec: 5, callerIdNumber: info.ani })).status).toBe('bridged');
      rig.peer.dropEventSockets();
      await waitFor(() => !rig.adapter.isConnected(), 1000, 'the adapter to notice');
      await waitFor(() => rig.adapter.isConnected(), 2000, 'the reconnect');
      expect(rig.peer.bridges()[0]?.channels).toHaveLength(2);
      expect(leg.ended).toBe(false);
      placed.hangup();
      expect((await end.ended).hungUpBy).toBe('caller');
      await expectNothingDangles(rig);
    });

    it('reconciles after a reconnect: a call that ended while we were away gets its end, and its buyer and bridge are removed', async () => {
      rig.peer.buyers.set('buyer-a', { kind: 'answer', afterMs: 5 });
      const placed = rig.peer.placeCall(CALLER);
      const { leg, info } = await rig.calls.next();
      const end = watchEnd(leg);
      expect((await leg.bridge({ uri: 'buyer-a' }, { answerTimeoutSec: 5, callerIdNumber: info.ani })).status).toBe('bridged');
      rig.peer.setUnreachable(true);
      await waitFor(() => !rig.adapter.isConnected(), 1000, 'the adapter to notice');
      placed.hangup(); // its events are lost
      await new Promise((r) => setTimeout(r, 100));
      expect(leg.ended).toBe(false);
      rig.peer.setUnreachable(false);
      const legEnd = await end.ended;
      expect(legEnd.hungUpBy).toBe('unknown');
      expect(legEnd.bridgedAt).toBeInstanceOf(Date);
      await expectNothingDangles(rig);
      expect(end.count()).toBe(1);
    });

    it('reconciles a buyer that hung up while we were away: the caller is hung up, reported as the buyer ending the call', async () => {
      rig.peer.buyers.set('buyer-a', { kind: 'answer', afterMs: 5 });
      const placed = rig.peer.placeCall(CALLER);
      const { leg, info } = await rig.calls.next();
      const end = watchEnd(leg);
      expect((await leg.bridge({ uri: 'buyer-a' }, { answerTimeoutSec: 5, callerIdNumber: info.ani })).status).toBe('bridged');
      rig.peer.setUnreachable(true);
      await waitFor(() => !rig.adapter.isConnected(), 1000, 'the adapter to notice');
      rig.peer.hangupFarEnd(rig.peer.originated[0]?.channelId as string);
      rig.peer.setUnreachable(false);
      const legEnd = await end.ended;
      expect(legEnd.hungUpBy).toBe('buyer');
      expect((await placed.finished).endedBy).toBe('app');
      await expectNothingDangles(rig);
    });

    it('settles a bridge attempt whose outcome was missed while the socket was down', async () => {
      rig.peer.buyers.set('buyer-busy', { kind: 'busy', afterMs: 100 });
      rig.peer.placeCall(CALLER);
      const { leg, info } = await rig.calls.next();
      const pending = leg.bridge({ uri: 'buyer-busy' }, { answerTimeoutSec: 5, callerIdNumber: info.ani });
      await waitFor(() => rig.peer.originated.length === 1);
      rig.peer.setUnreachable(true);
      await new Promise((r) => setTimeout(r, 200)); // the buyer's ChannelDestroyed is lost
      rig.peer.setUnreachable(false);
      const outcome = await pending;
      expect(outcome).toEqual(expect.objectContaining({ status: 'failed', detail: 'buyer channel ended while events were missed' }));
      expect(leg.ended).toBe(false);
      await leg.hangup('NORMAL_CLEARING');
      await expectNothingDangles(rig);
    });

    it('adopts a call whose StasisStart was lost, and removes leftovers it created that nothing tracks', async () => {
      const raw = new RawAri(rig.peer.url, { username: 'callx', password: 'secret' });
      rig.peer.loseEvents(true);
      const placed = rig.peer.placeCall({ ...CALLER, channelVars: { CALLX_LEAD_ID: 'lead-3' } });
      // Leftovers of an earlier run of the app: a buyer leg and a bridge with ids of ours (`<app>-<role>-<uuid>`).
      expect((await raw.request('POST', '/ari/channels?endpoint=PJSIP%2Fbuyers&app=callx&appArgs=buyer&channelId=callx-b-0000dead-0000-4000-8000-000000000001')).status).toBe(200);
      expect((await raw.request('POST', '/ari/bridges?type=mixing&bridgeId=callx-br-0000dead-0000-4000-8000-000000000002')).status).toBe(200);
      await new Promise((r) => setTimeout(r, 50));
      rig.peer.dropEventSockets();
      rig.peer.loseEvents(false);
      const { leg, info } = await rig.calls.next();
      expect(leg.id).toBe(placed.channelId);
      expect(info).toEqual(expect.objectContaining({ direction: 'inbound', ani: CALLER.ani, dnis: CALLER.dnis, leadId: 'lead-3' }));
      await waitFor(() => !rig.peer.channel('callx-b-0000dead-0000-4000-8000-000000000001') && rig.peer.bridges().length === 0, 2000, 'leftovers removed');
      const end = watchEnd(leg);
      await leg.hangup('NORMAL_CLEARING');
      expect((await end.ended).hungUpBy).toBe('system');
      await expectNothingDangles(rig);
    });

    it('ignores malformed and unknown events, and keeps handling calls', async () => {
      rig.peer.buyers.set('buyer-a', { kind: 'answer', afterMs: 5, hangupAfterMs: 30 });
      rig.peer.sendRawEvent('{this is not json');
      rig.peer.sendRawEvent('[1,2,3]');
      rig.peer.sendRawEvent('{"no":"type"}');
      rig.peer.sendRawEvent('{"type":"StasisStart","args":[],"channel":{"name":"no id"}}');
      rig.peer.sendRawEvent('{"type":"ChannelDestroyed","cause":"seventeen","channel":{"id":"x","state":"Up"}}');
      rig.peer.sendRawEvent('{"type":"SomethingNew","timestamp":"2026-11-24T09:07:50.955+0000"}');
      rig.peer.sendRawEvent('{"type":"ChannelStateChange","channel":{"id":"unknown-channel","state":"Up"}}');
      await waitFor(() => rig.adapter.stats().rejectedFrames === 5, 1000, 'the frames to be rejected');
      const placed = rig.peer.placeCall(CALLER);
      const { leg, info } = await rig.calls.next();
      const end = watchEnd(leg);
      expect((await leg.bridge({ uri: 'buyer-a' }, { answerTimeoutSec: 5, callerIdNumber: info.ani })).status).toBe('bridged');
      expect((await end.ended).hungUpBy).toBe('buyer');
      expect((await placed.finished).endedBy).toBe('app');
      await expectNothingDangles(rig);
    });

    it('drops the chatter it never reads unparsed, and nothing it reads (an Asterisk without the event filter sends it all)', async () => {
      await stopRig(rig);
      rig = await startRig({ peer: { eventFilter: false } });
      rig.peer.buyers.set('buyer-a', { kind: 'answer', afterMs: 5, hangupAfterMs: 1000 });
      // Not JSON past their type: dropped before any parse, so not counted as rejected.
      rig.peer.sendRawEvent('{"variable":"BRIDGEPEER","value":"x","type":"ChannelVarset",');
      rig.peer.sendRawEvent('{"type": "ChannelConnectedLine", broken');
      // A variable whose value holds the text of an unread type is still read as what it is.
      rig.peer.sendRawEvent('{"type":"StasisEnd","value":"\\"type\\":\\"ChannelVarset\\"","channel":{"name":"no id"}}');
      await waitFor(() => rig.adapter.stats().rejectedFrames === 1, 1000, 'the StasisEnd frame to be parsed and rejected');
      expect(rig.adapter.stats().unreadFrames).toBe(2);
      const placed = rig.peer.placeCall(CALLER);
      const { leg, info } = await rig.calls.next();
      const end = watchEnd(leg);
      expect((await leg.bridge({ uri: 'buyer-a' }, { answerTimeoutSec: 5, callerIdNumber: info.ani })).status).toBe('bridged');
      expect((await end.ended).hungUpBy).toBe('buyer');
      expect((await placed.finished).endedBy).toBe('app');
      await expectNothingDangles(rig);
      // The call's own chatter (the peer sends it as recorded) was dropped unparsed too.
      const unread = rig.peer.events.filter((e) => /^(ChannelVarset|ChannelConnectedLine|ChannelLeftBridge)$/.test(e.event.type as string)).length;
      expect(unread).toBeGreaterThan(0);
      expect(rig.adapter.stats().unreadFrames).toBe(2 + unread);
    });
  });

  it('starts while the switch is down, and connects once it is reachable', async () => {
    rig = await startRig({ start: false, adapter: { timeouts: { startWaitMs: 200, connectMs: 300, restMs: 300 } } });
    rig.peer.setUnreachable(true, { rest: true });
    await rig.adapter.start(rig.calls.handler);
    expect(rig.adapter.isConnected()).toBe(false);
    rig.peer.setUnreachable(false);
    await waitFor(() => rig.adapter.isConnected(), 3000, 'the adapter to connect');
    rig.peer.placeCall({ ...CALLER, hangupAfterMs: 20 });
    const { leg } = await rig.calls.next();
    expect((await watchEnd(leg).ended).hungUpBy).toBe('caller');
    await expectNothingDangles(rig);
  });
});
