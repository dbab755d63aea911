/**
 * Calls outlive the node (issue 12): what the Asterisk adapter does with calls in progress when it stops, and with
 * calls it finds on the switch when it (re)starts. A "dead node" is either another adapter that stopped, or a bare
 * ARI client that set a call up the way the adapter does (call id on every leg, buyer args `buyer,<caller>`, a
 * bridge with our id) and then lost its WebSocket.
 */
import type { CallInProgress } from '../../../app/switch/port';
import { RawAri, type EventSocket } from '../../peers/asterisk/raw-ari';
import { APP, CONF, attachAdapter, expectNothingDangles, isEventFilterRequest, sleep, startRig, stopRig, waitFor, watchEnd, type Rig } from './helpers';

const CALLER = { ani: '+12025550123', dnis: '+18005550100' };
const CREDS = { username: 'callx', password: 'secret' };

/** Requests that change something about calls on the switch (anything but GET and the app's event filter), from index `from` on. */
const changes = (rig: Rig, from = 0): string[] => rig.peer.requests.slice(from).filter((r) => r.method !== 'GET' && !isEventFilterRequest(r)).map((r) => `${r.method} ${r.path}`);

describe('Asterisk adapter: calls outlive the node', () => {
  let rig: Rig;
  const extra: Rig[] = [];

  afterEach(async () => {
    for (const r of extra.splice(0)) await r.adapter.stop();
    await stopRig(rig);
  });

  /** A second adapter on the same peer (the node restarted, or another node). */
  async function secondAdapter(): Promise<Rig> {
    const r = await attachAdapter(rig.peer);
    extra.push(r);
    return r;
  }

  /** A call set up by a bare ARI client as the adapter would, then left when its WebSocket died. */
  async function callOfADeadNode(opts: { bridged: boolean; callId?: string }): Promise<{ callerId: string; buyerId?: string; bridgeId?: string; finished: Promise<{ endedBy?: string; sip: number[] }> }> {
    const ari = new RawAri(rig.peer.url, CREDS);
    const ws: EventSocket = await ari.events(APP);
    const call = rig.peer.placeCall(CALLER);
    await ws.waitFor((e) => e.type === 'StasisStart');
    const callerId = call.channelId;
    if (opts.callId) await ari.request('POST', `/ari/channels/${callerId}/variable?variable=CALLX_CALL_ID&value=${opts.callId}`);
    await ari.request('POST', `/ari/channels/${callerId}/ring`);
    if (!opts.bridged) {
      ws.close();
      await waitFor(() => rig.peer.eventConnections === 0);
      return { callerId, finished: call.finished };
    }
    rig.peer.buyers.set('buyer-a', { kind: 'answer', afterMs: 5 });
    const buyerId = `${APP}-b-0000dead-0000-4000-8000-000000000001`;
    const vars = opts.callId ? { variables: { CALLX_CALL_ID: opts.callId } } : undefined;
    await ari.request('POST', `/ari/channels?endpoint=PJSIP%2Fbuyer-a%40buyers&app=${APP}&appArgs=buyer,${callerId}&channelId=${buyerId}`, { body: vars });
    await ws.waitFor((e) => e.type === 'StasisStart' && (e.channel as { id: string }).id === buyerId);
    await ari.request('POST', `/ari/channels/${callerId}/answer`);
    const bridgeId = `${APP}-br-0000dead-0000-4000-8000-000000000002`;
    await ari.request('POST', `/ari/bridges?type=mixing&bridgeId=${bridgeId}`);
    await ari.request('POST', `/ari/bridges/${bridgeId}/addChannel?channel=${callerId},${buyerId}`);
    rig.peer.dropEventSockets(); // the node dies: no close frame
    return { callerId, buyerId, bridgeId, finished: call.finished };
  }

  describe('stop', () => {
    it('after the drain, a bridged call is left on the switch untouched and its leg reports no end', async () => {
      rig = await startRig({ adapter: { timeouts: { stopDrainMs: 200 } } });
      rig.peer.buyers.set('buyer-a', { kind: 'answer', afterMs: 5 });
      const placed = rig.peer.placeCall(CALLER);
      const { leg, info } = await rig.calls.next();
      const end = watchEnd(leg);
      expect((await leg.bridge({ uri: 'buyer-a' }, { answerTimeoutSec: 5, callerIdNumber: info.ani, tags: { callx_call_id: 'c-stop' } })).status).toBe('bridged');
      const from = rig.peer.requests.length;
      await rig.adapter.stop();
      await sleep(100);
      expect(changes(rig, from)).toEqual([]);
      expect(end.count()).toBe(0);
      expect(leg.ended).toBe(false);
      const bridge = rig.peer.bridges()[0];
      expect(bridge?.channels).toEqual([placed.channelId, rig.peer.originated[0]?.channelId]);
      expect(rig.peer.channel(placed.channelId)?.inStasis).toBe(true);
      // The call goes on, and ends when the caller hangs up; the adapter heard nothing of it.
      placed.hangup();
      await placed.finished;
      expect(end.count()).toBe(0);
    });

    it('after the drain, a call in setup goes to the dialplan fallback unanswered; its ringing buyer leg is hung up', async () => {
      rig = await startRig({ adapter: { timeouts: { stopDrainMs: 200 } } });
      rig.peer.buyers.set('buyer-slow', { kind: 'no_answer' });
      const placed = rig.peer.placeCall(CALLER);
      const { leg, info } = await rig.calls.next();
      const end = watchEnd(leg);
      const outcome = leg.bridge({ uri: 'buyer-slow' }, { answerTimeoutSec: 30, callerIdNumber: info.ani, tags: { callx_call_id: 'c-setup' } });
      await waitFor(() => rig.peer.originated.length === 1);
      await rig.adapter.stop();
      expect((await outcome).status).toBe('caller_gone');
      expect(await end.ended).toEqual(expect.objectContaining({ hungUpBy: 'system', cause: 'NORMAL_TEMPORARY_FAILURE' }));
      const record = await placed.finished;
      expect(record.endedBy).toBe('fallback');
      expect(record.sip).toEqual([180, 183, 603]); // rang, then the fallback's early-media prompt and 603; never answered
      expect(rig.peer.originated[0]?.endedBy).toBe('app');
      expect(rig.peer.requests.some((r) => r.method === 'DELETE' && r.path.startsWith(`/ari/channels/${placed.channelId}`))).toBe(false);
    });
  });

  // With ari.conf's channelvars (CALLX_CALL_ID in every snapshot) and without them (one GET .../variable a channel).
  describe.each([
    ['with CALLX_CALL_ID in channelvars', CONF.channelvars],
    ['without channelvars', []],
  ])('a restarted node, or another one (%s)', (_name, channelvars) => {
    it('reconcile leaves a bridged call carrying a call id alone: not handed over as new, its buyer and bridge untouched; sweeps do not ask its id again', async () => {
      rig = await startRig({ start: false, peer: { channelvars } });
      const dead = await callOfADeadNode({ bridged: true, callId: 'c-dead' });
      const from = rig.peer.requests.length;
      await rig.adapter.start(rig.calls.handler);
      await waitFor(() => rig.peer.requests.slice(from).some((r) => r.path === '/ari/bridges'), 2000, 'reconcile');
      await sleep(100);
      expect(rig.calls.all).toEqual([]);
      expect(changes(rig, from)).toEqual([]);
      expect(rig.peer.bridges()).toEqual([expect.objectContaining({ id: dead.bridgeId, channels: [dead.callerId, dead.buyerId] })]);
      // The reconcile asked for the caller's call id (without channelvars); sweeps after it do not ask again.
      const listed = [{ callId: 'c-dead', switchCallId: dead.callerId, bridged: true, bridgedAt: expect.any(Date) }];
      for (let sweep = 0; sweep < 3; sweep++) expect(await rig.adapter.callsInProgress()).toEqual(listed);
      const asked = rig.peer.requests.slice(from).filter((r) => r.method === 'GET' && r.path.startsWith(`/ari/channels/${dead.callerId}/variable`));
      expect(asked).toHaveLength(channelvars?.length ? 0 : 1);
    });

    it('callsInProgress lists it; adopt reports the caller\'s real end, then hangs up the buyer and keeps the emptied bridge for the next call', async () => {
      rig = await startRig({ start: false, peer: { channelvars } });
      const dead = await callOfADeadNode({ bridged: true, callId: 'c-dead' });
      await rig.adapter.start(rig.calls.handler);
      const calls = await rig.adapter.callsInProgress();
      expect(calls).toEqual([{ callId: 'c-dead', switchCallId: dead.callerId, bridged: true, bridgedAt: expect.any(Date) }]);
      const from = rig.peer.requests.length;
      const leg = await rig.adapter.adopt(calls[0] as CallInProgress);
      expect(leg?.id).toBe(dead.callerId);
      expect(changes(rig, from)).toEqual([]); // the buyer leg is never touched while the call talks
      const end = watchEnd(leg!);
      await sleep(150);
      const hungUpAt = Date.now();
      rig.peer.hangupFarEnd(dead.callerId);
      const legEnd = await end.ended;
      expect(legEnd).toEqual(expect.objectContaining({ hungUpBy: 'caller', cause: 'NORMAL_CLEARING' }));
      expect(Math.abs(legEnd.endedAt.getTime() - hungUpAt)).toBeLessThan(100);
      expect(legEnd.bridgedAt).toBeInstanceOf(Date);
      expect(legEnd.endedAt.getTime() - (legEnd.bridgedAt as Date).getTime()).toBeGreaterThanOrEqual(140);
      await expectNothingDangles(rig);
      // The dead node's bridge (our app's id, just the caller and buyer in it) is empty now, and pooled, not destroyed.
      expect(rig.peer.bridges()).toEqual([expect.objectContaining({ id: dead.bridgeId, channels: [] })]);
      expect(rig.adapter.stats().idleBridges).toBe(1);
      expect(changes(rig, from).filter((r) => r.startsWith('DELETE /ari/bridges'))).toEqual([]);
      expect(rig.peer.originated.find((o) => o.channelId === dead.buyerId)?.endedBy).toBe('app');
      expect(rig.calls.all).toEqual([]);
      expect(end.count()).toBe(1);
    });

    it('an adopted call whose buyer hangs up first: the caller is hung up and the leg says the buyer ended it', async () => {
      rig = await startRig({ start: false, peer: { channelvars } });
      const dead = await callOfADeadNode({ bridged: true, callId: 'c-dead' });
      await rig.adapter.start(rig.calls.handler);
      const [call] = await rig.adapter.callsInProgress();
      const leg = await rig.adapter.adopt(call as CallInProgress);
      const end = watchEnd(leg!);
      rig.peer.hangupFarEnd(dead.buyerId as string);
      expect(await end.ended).toEqual(expect.objectContaining({ hungUpBy: 'buyer' }));
      expect((await dead.finished).endedBy).toBe('app');
      await expectNothingDangles(rig);
    });

    it('adopt of a call whose caller left in the gap resolves undefined, and the buyer left bridged alone is cleaned up', async () => {
      rig = await startRig({ start: false, peer: { channelvars } });
      const dead = await callOfADeadNode({ bridged: true, callId: 'c-dead' });
      await rig.adapter.start(rig.calls.handler);
      const [call] = await rig.adapter.callsInProgress();
      rig.peer.hangupFarEnd(dead.callerId);
      await dead.finished;
      expect(await rig.adapter.adopt(call as CallInProgress)).toBeUndefined();
      await expectNothingDangles(rig);
    });

    it('a call a stopped adapter left bridged is adopted by the next one, which sees its end and bridges its next call in the same bridge', async () => {
      rig = await startRig({ adapter: { timeouts: { stopDrainMs: 100 } } });
      rig.peer.buyers.set('buyer-a', { kind: 'answer', afterMs: 5 });
      const placed = rig.peer.placeCall(CALLER);
      const { leg, info } = await rig.calls.next();
      expect((await leg.bridge({ uri: 'buyer-a' }, { answerTimeoutSec: 5, callerIdNumber: info.ani, tags: { callx_call_id: 'c-handover' } })).status).toBe('bridged');
      await rig.adapter.stop();
      const next = await secondAdapter();
      const calls = await next.adapter.callsInProgress();
      expect(calls).toEqual([expect.objectContaining({ callId: 'c-handover', switchCallId: placed.channelId, bridged: true })]);
      const adopted = await next.adapter.adopt(calls[0] as CallInProgress);
      const end = watchEnd(adopted!);
      placed.hangup();
      expect(await end.ended).toEqual(expect.objectContaining({ hungUpBy: 'caller' }));
      expect(next.calls.all).toEqual([]);
      const [bridge] = rig.peer.bridges();
      // The buyer hung up; the bridge, emptied, waits in the new node's pool instead of being destroyed.
      await waitFor(() => rig.peer.channels().length === 0 && next.adapter.stats().idleBridges === 1, 2000, 'buyer hung up and the bridge pooled');
      expect(rig.peer.bridges()).toEqual([expect.objectContaining({ id: bridge?.id, channels: [] })]);
      expect(rig.peer.events.filter((e) => e.event.type === 'BridgeDestroyed')).toEqual([]);
      // The new node's next call goes into that bridge: no POST /bridges, no DELETE /bridges.
      const from = rig.peer.requests.length;
      const second = rig.peer.placeCall({ ani: '+12025550124', dnis: CALLER.dnis });
      const call = await next.calls.next();
      const secondEnd = watchEnd(call.leg);
      expect((await call.leg.bridge({ uri: 'buyer-a' }, { answerTimeoutSec: 5, callerIdNumber: call.info.ani })).status).toBe('bridged');
      expect(rig.peer.bridges()).toEqual([expect.objectContaining({ id: bridge?.id, channels: [second.channelId, expect.any(String)] })]);
      second.hangup();
      await secondEnd.ended;
      await expectNothingDangles(next);
      expect(changes(rig, from).filter((r) => r.includes('/ari/bridges') && !r.includes('/addChannel'))).toEqual([]);
      await next.adapter.stop();
      expect(rig.peer.bridges()).toEqual([]);
    });

    it('an unbridged call with a call id is listed as such and releaseToFallback sends it on in the dialplan, unanswered', async () => {
      rig = await startRig({ start: false, peer: { channelvars } });
      const dead = await callOfADeadNode({ bridged: false, callId: 'c-setup' });
      await rig.adapter.start(rig.calls.handler);
      await sleep(100);
      expect(rig.calls.all).toEqual([]); // it carries a call id: never taken for a new call
      const calls = await rig.adapter.callsInProgress();
      expect(calls).toEqual([{ callId: 'c-setup', switchCallId: dead.callerId, bridged: false }]);
      await rig.adapter.releaseToFallback(calls[0] as CallInProgress);
      const record = await dead.finished;
      expect(record.endedBy).toBe('fallback');
      expect(record.sip).toEqual([180, 183, 603]);
    });

    it('releaseToFallback hangs up a consumer leg we called (no dialplan behind it) instead of continuing it', async () => {
      rig = await startRig({ start: false, peer: { channelvars } });
      rig.peer.consumers.set('+13055550111', { kind: 'answer', afterMs: 5 });
      const ari = new RawAri(rig.peer.url, CREDS);
      const ws = await ari.events(APP);
      const consumerId = `${APP}-o-0000dead-0000-4000-8000-000000000003`;
      await ari.request('POST', `/ari/channels?endpoint=PJSIP%2F%2B13055550111%40consumers&app=${APP}&appArgs=outbound,c-out,camp&channelId=${consumerId}`, { body: { variables: { CALLX_CALL_ID: 'c-out' } } });
      await ws.waitFor((e) => e.type === 'StasisStart' && (e.channel as { id: string }).id === consumerId);
      rig.peer.dropEventSockets();
      const from = rig.peer.requests.length;
      await rig.adapter.start(rig.calls.handler);
      const calls = await rig.adapter.callsInProgress();
      expect(calls).toEqual([{ callId: 'c-out', switchCallId: consumerId, bridged: false }]);
      expect(rig.calls.all).toEqual([]);
      await rig.adapter.releaseToFallback(calls[0] as CallInProgress);
      expect(changes(rig, from)).toEqual([`DELETE /ari/channels/${consumerId}?reason_code=41`]);
      await expectNothingDangles(rig);
    });

    it('releaseToFallback refuses a bridged call', async () => {
      rig = await startRig({ start: false, peer: { channelvars } });
      const dead = await callOfADeadNode({ bridged: true, callId: 'c-dead' });
      await rig.adapter.start(rig.calls.handler);
      const [call] = await rig.adapter.callsInProgress();
      const from = rig.peer.requests.length;
      await rig.adapter.releaseToFallback(call as CallInProgress);
      expect(changes(rig, from)).toEqual([]);
      expect(rig.peer.channel(dead.callerId)?.bridgeId).toBe(dead.bridgeId);
    });

    it('a caller without a call id whose StasisStart was missed is still handed over as a new call', async () => {
      rig = await startRig({ start: false, peer: { channelvars } });
      const dead = await callOfADeadNode({ bridged: false });
      await rig.adapter.start(rig.calls.handler);
      const { leg } = await rig.calls.next();
      expect(leg.id).toBe(dead.callerId);
      expect(await rig.adapter.callsInProgress()).toEqual([]);
      await leg.hangup('NORMAL_CLEARING');
    });

    it('a node that dies with idle bridges leaves nothing: the next node on its app destroys them and bridges in its own', async () => {
      // Idle pooled bridges carry the app's id prefix and no channel. One app has one event socket (a second
      // registration replaces the first), so whoever registers next is the dead node's successor: its reconcile
      // takes them for orphans.
      rig = await startRig();
      rig.peer.buyers.set('buyer-a', { kind: 'answer', afterMs: 5, hangupAfterMs: 50 });
      rig.peer.placeCall(CALLER);
      const first = await rig.calls.next();
      const firstEnd = watchEnd(first.leg);
      expect((await first.leg.bridge({ uri: 'buyer-a' }, { answerTimeoutSec: 5, callerIdNumber: first.info.ani })).status).toBe('bridged');
      await firstEnd.ended;
      await waitFor(() => rig.adapter.stats().idleBridges === 1, 2000, 'the emptied bridge kept for reuse');
      const idle = rig.peer.bridges()[0]?.id;
      rig.peer.dropEventSockets(); // the node dies: no close frame, and its idle bridge stays on the switch
      // ...and stays dead: left running, its events socket would reconnect and take the app back from the next node
      // (one registration per app), which then never saw the next call (flaky: 2 runs of 6 failed).
      await (rig.adapter as unknown as { events: { stop(): Promise<void> } }).events.stop();
      expect(rig.peer.bridges()).toEqual([expect.objectContaining({ id: idle, channels: [] })]);
      const next = await secondAdapter();
      await waitFor(() => rig.peer.bridges().length === 0, 2000, 'the dead node\'s idle bridge destroyed by reconcile');
      rig.peer.buyers.set('buyer-b', { kind: 'answer', afterMs: 5 });
      const placed = rig.peer.placeCall({ ani: '+12025550126', dnis: CALLER.dnis });
      const call = await next.calls.next();
      const end = watchEnd(call.leg);
      expect((await call.leg.bridge({ uri: 'buyer-b' }, { answerTimeoutSec: 5, callerIdNumber: call.info.ani })).status).toBe('bridged');
      expect(rig.peer.bridges()).toEqual([expect.objectContaining({ channels: [placed.channelId, expect.any(String)] })]);
      expect(rig.peer.bridges()[0]?.id).not.toBe(idle);
      placed.hangup();
      await end.ended;
    });

    it('a buyer leg whose caller is gone, and its bridge, are cleaned up by reconcile', async () => {
      rig = await startRig({ start: false, peer: { channelvars } });
      const dead = await callOfADeadNode({ bridged: true, callId: 'c-dead' });
      rig.peer.hangupFarEnd(dead.callerId); // the caller leaves while no node listens: the buyer stays bridged (fact 15)
      await dead.finished;
      expect(rig.peer.channels().map((c) => c.id)).toEqual([dead.buyerId]);
      await rig.adapter.start(rig.calls.handler);
      await expectNothingDangles(rig);
      expect(rig.calls.all).toEqual([]);
    });
  });
});
