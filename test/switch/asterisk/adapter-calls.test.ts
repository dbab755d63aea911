/**
 * The Asterisk adapter driven through the Asterisk peer: a scripted handler stands in for the pipeline
 * (answer -> bridge -> outcome), the peer's request log and event log show what happened on the switch, and
 * after each call nothing may be left on the switch or in the adapter's tables.
 */
import { RawAri } from '../../peers/asterisk/raw-ari';
import { CallQueue, expectNothingDangles, isEventFilterRequest, startRig, stopRig, waitFor, watchEnd, type Rig } from './helpers';

const CALLER = { ani: '+12025550123', dnis: '+18005550100' };

describe('Asterisk adapter: calls', () => {
  let rig: Rig;
  let calls: CallQueue;

  beforeEach(async () => {
    rig = await startRig();
    calls = rig.calls;
  });

  afterEach(async () => {
    await stopRig(rig);
  });

  const requests = (): string[] => rig.peer.requests.map((r) => `${r.method} ${decodeURIComponent(r.path.split('?')[0] ?? '')} ${r.status}`);

  it('hands the call over with its channel variables, rings it while the buyer is dialled, answers it as the buyer answers, bridges, and reports the end with durations', async () => {
    rig.peer.buyers.set('+15551230001', { kind: 'answer', afterMs: 20 });
    const placed = rig.peer.placeCall({
      ...CALLER,
      callerName: 'Jane',
      channelVars: { CALLX_ATTESTATION: 'TN-Validation-Passed-A', CALLX_LEAD_ID: 'lead-7', CALLX_ZIP: '30301' },
      hangupAfterBridgeMs: 150,
    });
    const { leg, info } = await calls.next();
    expect(info).toEqual({
      switchCallId: placed.channelId,
      switchName: 'asterisk',
      ani: '+12025550123',
      dnis: '+18005550100',
      direction: 'inbound',
      attestation: 'A',
      attestationSource: 'verstat',
      carrier: { trunk: 'carrier' },
      leadId: 'lead-7',
      zip: '30301',
      extra: expect.objectContaining({ caller_name: 'Jane' }),
    });
    expect(leg.id).toBe(placed.channelId);
    const end = watchEnd(leg);
    const outcome = await leg.bridge({ uri: '+15551230001' }, { answerTimeoutSec: 5, callerIdNumber: info.ani, tags: { callx_call_id: 'c-1' } });
    expect(outcome).toEqual({ status: 'bridged', answeredAt: expect.any(Date) });
    const legEnd = await end.ended;
    expect(legEnd).toEqual(expect.objectContaining({ cause: 'NORMAL_CLEARING', hungUpBy: 'caller' }));
    expect(legEnd.answeredAt).toBeInstanceOf(Date);
    expect(legEnd.bridgedAt).toBeInstanceOf(Date);
    const talkMs = legEnd.endedAt.getTime() - (legEnd.bridgedAt as Date).getTime();
    expect(talkMs).toBeGreaterThanOrEqual(120);
    expect(talkMs).toBeLessThan(1000);
    expect((legEnd.bridgedAt as Date).getTime()).toBeGreaterThanOrEqual((legEnd.answeredAt as Date).getTime());
    expect(leg.ended).toBe(true);
    await expectNothingDangles(rig);

    const [buyer] = rig.peer.originated;
    expect(buyer?.endpoint).toBe('buyers');
    expect(buyer?.target.resource).toBe('+15551230001@buyers');
    expect(buyer?.appArgs).toEqual(['buyer', placed.channelId]);
    expect(buyer?.callerId).toEqual({ name: '', number: '+12025550123' });
    expect(buyer?.endedBy).toBe('app');
    const buyerId = buyer?.channelId as string;
    expect(buyerId.startsWith('callx-b-')).toBe(true);
    // Before the call: the app's event filter, set once as the adapter connected.
    expect(rig.peer.requests.filter(isEventFilterRequest).map((r) => r.status)).toEqual([200]);
    const setup = rig.peer.requests
      .filter((r) => !isEventFilterRequest(r))
      .map((r) => `${r.method} ${decodeURIComponent(r.path.split('?')[0] ?? '')} ${r.status}`)
      .filter((r) => !r.startsWith('GET'))
      .map((r) => r.replace(buyerId, '{buyer}').replace(placed.channelId, '{caller}').replace(/callx-br-[0-9a-f-]+/, '{bridge}'));
    // The call id goes on the caller and the caller hears ringing as the buyer is dialled (all three at once); the
    // caller is answered only once the buyer has answered.
    expect(setup.slice(0, 3).sort()).toEqual(['POST /ari/channels 200', 'POST /ari/channels/{caller}/ring 204', 'POST /ari/channels/{caller}/variable 204']);
    expect(setup.slice(3, 6)).toEqual([
      'POST /ari/channels/{caller}/answer 204',
      'POST /ari/bridges 200',
      'POST /ari/bridges/{bridge}/addChannel 204',
    ]);
    // The caller's BYE: the app hangs up the buyer; the bridge, empty, is kept for the next call.
    expect(setup.slice(6)).toEqual(['DELETE /ari/channels/{buyer} 204']);
    expect(rig.adapter.stats().idleBridges).toBe(1);
    expect((await placed.finished).sip).toEqual([180, 200]);
    // Every leg carries the call id: the caller (POST variable) and the buyer (originate variables).
    expect(rig.peer.requests.some((r) => r.path === `/ari/channels/${placed.channelId}/variable?variable=CALLX_CALL_ID&value=c-1`)).toBe(true);
    expect(buyer?.channel.vars.get('CALLX_CALL_ID')).toBe('c-1');
    // asterisk-conf/pjsip.conf sets send_connected_line=no on the buyers endpoint: no re-INVITE after the bridge.
    expect(buyer?.channel.reinvites).toBe(0);
    expect(rig.peer.requests.find((r) => r.method === 'POST' && r.path.startsWith('/ari/channels?'))?.path).toContain('timeout=5');
    expect(end.count()).toBe(1);
  });

  it('fails over on the same caller: a busy buyer, then a second one answers and later hangs up', async () => {
    rig.peer.buyers.set('buyer-a', { kind: 'busy', afterMs: 10 });
    rig.peer.buyers.set('buyer-b', { kind: 'answer', afterMs: 10, hangupAfterMs: 80 });
    const placed = rig.peer.placeCall(CALLER);
    const { leg, info } = await calls.next();
    const end = watchEnd(leg);
    const first = await leg.bridge({ uri: 'buyer-a' }, { answerTimeoutSec: 5, callerIdNumber: info.ani });
    expect(first).toEqual({ status: 'busy', cause: 'USER_BUSY' });
    expect(leg.ended).toBe(false);
    const second = await leg.bridge({ uri: 'buyer-b' }, { answerTimeoutSec: 5, callerIdNumber: info.ani });
    expect(second.status).toBe('bridged');
    const legEnd = await end.ended;
    expect(legEnd).toEqual(expect.objectContaining({ hungUpBy: 'buyer', cause: 'NORMAL_CLEARING' }));
    expect(rig.peer.originated.map((o) => [o.endpoint, o.answered, o.endedBy])).toEqual([
      ['buyer-a', false, 'far_end'],
      ['buyer-b', true, 'far_end'],
    ]);
    const record = await placed.finished;
    expect(record.endedBy).toBe('app');
    expect(record.reason).toBe('reason_code 16');
    expect(record.cause).toBe(16);
    expect(record.bridgedWith).toEqual([rig.peer.originated[1]?.channelId]);
    await expectNothingDangles(rig);
    expect(end.count()).toBe(1);
  });

  it('reports no answer when the originate timeout expires, and the pipeline plays a prompt and hangs up', async () => {
    rig.peer.buyers.set('buyer-slow', { kind: 'no_answer' });
    rig.peer.prompts.set('ss-noservice', 30);
    const placed = rig.peer.placeCall(CALLER);
    const { leg, info } = await calls.next();
    const end = watchEnd(leg);
    await leg.answer();
    const outcome = await leg.bridge({ uri: 'buyer-slow' }, { answerTimeoutSec: 1, callerIdNumber: info.ani });
    expect(outcome).toEqual({ status: 'no_answer', cause: 'NO_ANSWER' });
    expect(leg.ended).toBe(false);
    await leg.playAndHangup('no_buyer', 'NORMAL_TEMPORARY_FAILURE');
    const legEnd = await end.ended;
    expect(legEnd).toEqual(expect.objectContaining({ hungUpBy: 'system', cause: 'NORMAL_TEMPORARY_FAILURE' }));
    const record = await placed.finished;
    // the exact Q.850 cause (41), not the nearest hangup word ('congestion' would be 34)
    expect(record.reason).toBe('reason_code 41');
    expect(record.cause).toBe(41);
    expect(rig.peer.requests.some((r) => r.path.includes('/play?') && r.path.includes('media=sound%3Ass-noservice') && r.status === 201)).toBe(true);
    const played = rig.peer.events.map((e) => e.event.type).filter((t) => t.startsWith('Playback'));
    expect(played).toEqual(['PlaybackStarted', 'PlaybackFinished']);
    await expectNothingDangles(rig);
  });

  it('a call the exchange does not bridge is never answered: the prompt goes as early media and the hangup carries the cause', async () => {
    rig.peer.buyers.set('buyer-busy', { kind: 'busy', afterMs: 5 });
    rig.peer.prompts.set('tt-allbusy', 30);
    const placed = rig.peer.placeCall(CALLER);
    const { leg, info } = await calls.next();
    const end = watchEnd(leg);
    expect((await leg.bridge({ uri: 'buyer-busy' }, { answerTimeoutSec: 5, callerIdNumber: info.ani, tags: { callx_call_id: 'c-2' } })).status).toBe('busy');
    await leg.playAndHangup('no_buyer_available', 'NORMAL_TEMPORARY_FAILURE');
    expect((await end.ended).answeredAt).toBeUndefined();
    const record = await placed.finished;
    expect(record.answered).toBe(false);
    // 180 while the buyer was tried, 183 for the prompt, then Q.850 41, which Asterisk sends as 603.
    expect(record.sip).toEqual([180, 183, 603]);
    expect(record.reason).toBe('reason_code 41');
    const mine = requests().filter((r) => r.includes(placed.channelId));
    expect(mine.some((r) => r.includes('/answer'))).toBe(false);
    expect(mine.filter((r) => /progress|play/.test(r)).map((r) => r.replace(placed.channelId, '{caller}'))).toEqual(['POST /ari/channels/{caller}/progress 204', 'POST /ari/channels/{caller}/play 201']);

    const rejected = rig.peer.placeCall({ ani: '+12025550124', dnis: CALLER.dnis });
    const second = await calls.next();
    await second.leg.hangup('CALL_REJECTED');
    expect((await rejected.finished).sip).toEqual([403]);
    await expectNothingDangles(rig);
  });

  it('reports failure for an unknown endpoint (500 Allocation failed) and keeps the caller up', async () => {
    rig.peer.placeCall(CALLER);
    const { leg, info } = await calls.next();
    const outcome = await leg.bridge({ uri: 'nosuchbuyer' }, { answerTimeoutSec: 5, callerIdNumber: info.ani });
    expect(outcome).toEqual({ status: 'failed', cause: 'NO_ROUTE_DESTINATION', detail: 'Allocation failed' });
    expect(leg.ended).toBe(false);
    const refused = await leg.bridge({ uri: 'sip:has space@example.com' }, { answerTimeoutSec: 5, callerIdNumber: info.ani });
    expect(refused.status).toBe('failed');
    expect(refused).toEqual(expect.objectContaining({ cause: 'INVALID_NUMBER_FORMAT' }));
    const end = watchEnd(leg);
    await leg.hangup('NORMAL_TEMPORARY_FAILURE');
    expect((await end.ended).hungUpBy).toBe('system');
    await expectNothingDangles(rig);
  });

  it('Allocation failed on the buyer trunk itself is a switch fault, not the buyer\'s failure', async () => {
    await stopRig(rig);
    rig = await startRig({ peer: { endpoints: ['carrier'] } }); // the switch has no channel to give on its trunk
    calls = rig.calls;
    rig.peer.placeCall(CALLER);
    const { leg, info } = await calls.next();
    expect(await leg.bridge({ uri: '+15551230001' }, { answerTimeoutSec: 5, callerIdNumber: info.ani })).toEqual({ status: 'switch_fault', cause: 'SWITCH_CONGESTION', detail: 'Allocation failed on the buyer trunk' });
    expect(await leg.bridge({ uri: 'sip:buyer@10.0.0.5' }, { answerTimeoutSec: 5, callerIdNumber: info.ani })).toEqual(expect.objectContaining({ status: 'switch_fault' }));
    expect(leg.ended).toBe(false);
    await leg.hangup('NORMAL_TEMPORARY_FAILURE');
    await expectNothingDangles(rig);
  });

  it('dials SIP URIs through the buyer trunk and reports other failure causes as failed', async () => {
    rig.peer.buyers.set('sip:buyer@10.0.0.5:5080', { kind: 'fail', cause: 34, afterMs: 5 });
    rig.peer.placeCall(CALLER);
    const { leg, info } = await calls.next();
    const outcome = await leg.bridge({ uri: 'sip:buyer@10.0.0.5:5080' }, { answerTimeoutSec: 5, callerIdNumber: info.ani });
    expect(outcome).toEqual({ status: 'failed', cause: 'NORMAL_CIRCUIT_CONGESTION' });
    expect(rig.peer.originated[0]?.target.resource).toBe('buyers/sip:buyer@10.0.0.5:5080');
    await leg.hangup('NORMAL_CLEARING');
    await expectNothingDangles(rig);
  });

  it('caller hangs up while the buyer rings: caller_gone, the buyer leg is hung up, onEnded fires once', async () => {
    rig.peer.buyers.set('buyer-ringing', { kind: 'no_answer' });
    const placed = rig.peer.placeCall(CALLER);
    const { leg, info } = await calls.next();
    const end = watchEnd(leg);
    const pending = leg.bridge({ uri: 'buyer-ringing' }, { answerTimeoutSec: 10, callerIdNumber: info.ani });
    await waitFor(() => rig.peer.originated.length === 1 && rig.peer.channel(rig.peer.originated[0]?.channelId ?? '')?.state === 'Ringing');
    placed.hangup();
    const outcome = await pending;
    expect(outcome).toEqual({ status: 'caller_gone', cause: 'ORIGINATOR_CANCEL' });
    const legEnd = await end.ended;
    expect(legEnd).toEqual(expect.objectContaining({ hungUpBy: 'caller', cause: 'ORIGINATOR_CANCEL' }));
    await expectNothingDangles(rig);
    expect(rig.peer.originated[0]?.endedBy).toBe('app');
    expect(end.count()).toBe(1);
  });

  it('caller hangs up mid-bridge: the buyer leg is hung up, and the emptied bridge takes the next call; stop destroys it', async () => {
    rig.peer.buyers.set('buyer-a', { kind: 'answer', afterMs: 5 });
    const placed = rig.peer.placeCall(CALLER);
    const { leg, info } = await calls.next();
    const end = watchEnd(leg);
    expect((await leg.bridge({ uri: 'buyer-a' }, { answerTimeoutSec: 5, callerIdNumber: info.ani })).status).toBe('bridged');
    expect(rig.peer.bridges()).toHaveLength(1);
    expect(rig.peer.bridges()[0]?.channels).toHaveLength(2);
    const bridgeId = rig.peer.bridges()[0]?.id;
    placed.hangup();
    const legEnd = await end.ended;
    expect(legEnd).toEqual(expect.objectContaining({ hungUpBy: 'caller', cause: 'NORMAL_CLEARING' }));
    await expectNothingDangles(rig);
    expect(rig.peer.bridges()).toEqual([expect.objectContaining({ id: bridgeId, channels: [] })]);
    expect(rig.peer.events.filter((e) => e.event.type === 'BridgeDestroyed')).toHaveLength(0);
    expect(end.count()).toBe(1);

    // The next call is bridged in the same bridge, with neither POST /bridges nor DELETE /bridges, to its own buyer only.
    const before = rig.peer.requests.length;
    const second = rig.peer.placeCall({ ani: '+12025550124', dnis: CALLER.dnis });
    const next = await calls.next();
    const secondEnd = watchEnd(next.leg);
    expect((await next.leg.bridge({ uri: 'buyer-a' }, { answerTimeoutSec: 5, callerIdNumber: next.info.ani })).status).toBe('bridged');
    expect(rig.peer.bridges()).toEqual([expect.objectContaining({ id: bridgeId, channels: [second.channelId, rig.peer.originated[1]?.channelId] })]);
    second.hangup();
    await secondEnd.ended;
    await expectNothingDangles(rig);
    const made = rig.peer.requests.slice(before).map((r) => `${r.method} ${r.path.split('?')[0]}`);
    expect(made.filter((r) => r.includes('/ari/bridges') && !r.endsWith('/addChannel'))).toEqual([]);
    expect(made.filter((r) => r.endsWith('/addChannel'))).toEqual([`POST /ari/bridges/${bridgeId}/addChannel`]);

    await rig.adapter.stop();
    expect(rig.peer.bridges()).toEqual([]);
    expect(rig.peer.events.filter((e) => e.event.type === 'BridgeDestroyed')).toHaveLength(1);
  });

  it('a bridge destroyed behind the adapter while idle is replaced: the next call still bridges', async () => {
    rig.peer.buyers.set('buyer-a', { kind: 'answer', afterMs: 5, hangupAfterMs: 50 });
    rig.peer.placeCall(CALLER);
    const first = await calls.next();
    const firstEnd = watchEnd(first.leg);
    expect((await first.leg.bridge({ uri: 'buyer-a' }, { answerTimeoutSec: 5, callerIdNumber: first.info.ani })).status).toBe('bridged');
    await firstEnd.ended;
    await expectNothingDangles(rig);
    const [idle] = rig.peer.bridges();
    // Destroyed without its BridgeDestroyed reaching the adapter (events lost, as in a socket gap).
    const from = rig.peer.requests.length;
    rig.peer.loseEvents(true);
    expect((await new RawAri(rig.peer.url, { username: 'callx', password: 'secret' }).request('DELETE', `/ari/bridges/${idle?.id}`)).status).toBe(204);
    rig.peer.loseEvents(false);
    expect(rig.adapter.stats().idleBridges).toBe(1);
    rig.peer.buyers.set('buyer-b', { kind: 'answer', afterMs: 5 });
    const placed = rig.peer.placeCall({ ani: '+12025550125', dnis: CALLER.dnis });
    const next = await calls.next();
    const end = watchEnd(next.leg);
    expect((await next.leg.bridge({ uri: 'buyer-b' }, { answerTimeoutSec: 5, callerIdNumber: next.info.ani })).status).toBe('bridged');
    expect(rig.peer.bridges()).toEqual([expect.objectContaining({ channels: [placed.channelId, rig.peer.originated[1]?.channelId] })]);
    expect(rig.peer.bridges()[0]?.id).not.toBe(idle?.id);
    expect(rig.peer.requests.slice(from).filter((r) => r.path.startsWith(`/ari/bridges/${idle?.id}/addChannel`)).map((r) => r.status)).toEqual([404]);
    placed.hangup();
    await end.ended;
    await expectNothingDangles(rig);
  });

  it('waits for the Up state change, not StasisStart, before treating a buyer as answered', async () => {
    rig.peer.buyers.set('buyer-early-stasis', { kind: 'answer', afterMs: 10, stasisFirstMs: 100 });
    rig.peer.buyers.set('buyer-stasis-then-gone', { kind: 'answer', afterMs: 10, stasisFirstMs: 100 });
    rig.peer.placeCall(CALLER);
    const { leg, info } = await calls.next();
    const outcome = await leg.bridge({ uri: 'buyer-early-stasis' }, { answerTimeoutSec: 5, callerIdNumber: info.ani });
    expect(outcome.status).toBe('bridged');
    const buyerId = rig.peer.originated[0]?.channelId;
    const buyerEvents = rig.peer.events
      .filter((e) => (e.event.channel as { id?: string } | undefined)?.id === buyerId)
      .map((e) => `${e.event.type}${e.event.type === 'ChannelStateChange' ? `:${(e.event.channel as { state: string }).state}` : ''}`)
      .filter((t) => ['StasisStart', 'ChannelStateChange:Up', 'ChannelEnteredBridge'].includes(t));
    expect(buyerEvents).toEqual(['StasisStart', 'ChannelStateChange:Up', 'ChannelEnteredBridge']);
    await leg.hangup('NORMAL_CLEARING');
    await expectNothingDangles(rig);
  });

  it('a buyer that entered Stasis but hangs up before Up is a failed attempt, not a bridge', async () => {
    rig.peer.buyers.set('buyer-flaky', { kind: 'answer', afterMs: 10, stasisFirstMs: 200 });
    rig.peer.placeCall(CALLER);
    const { leg, info } = await calls.next();
    const pending = leg.bridge({ uri: 'buyer-flaky' }, { answerTimeoutSec: 5, callerIdNumber: info.ani });
    await waitFor(() => rig.peer.channel(rig.peer.originated[0]?.channelId ?? '')?.inStasis === true);
    rig.peer.hangupFarEnd(rig.peer.originated[0]?.channelId as string);
    const outcome = await pending;
    expect(outcome.status).toBe('failed');
    expect(rig.peer.requests.some((r) => r.path.includes('addChannel'))).toBe(false);
    await leg.hangup('NORMAL_CLEARING');
    await expectNothingDangles(rig);
  });

  it('hands each call over once and keeps no per-channel state after many calls', async () => {
    rig.peer.buyers.fallback = { kind: 'answer', afterMs: 2, hangupAfterMs: 300 };
    const placed = Array.from({ length: 20 }, (_, i) => rig.peer.placeCall({ ani: `+1202555${String(1000 + i)}`, dnis: CALLER.dnis }));
    const ends: Array<Promise<unknown>> = [];
    const outcomes: Array<Promise<string>> = [];
    for (let i = 0; i < placed.length; i++) {
      const { leg, info } = await calls.next();
      const end = watchEnd(leg);
      ends.push(end.ended);
      outcomes.push(leg.bridge({ uri: '+15551230009' }, { answerTimeoutSec: 5, callerIdNumber: info.ani }).then((o) => o.status));
    }
    expect(await Promise.all(outcomes)).toEqual(Array(20).fill('bridged'));
    await Promise.all(ends);
    expect(calls.all).toHaveLength(20);
    expect(new Set(calls.all.map((c) => c.leg.id)).size).toBe(20);
    await expectNothingDangles(rig);
  });
});

describe('Asterisk adapter: the bridge pool beyond its size', () => {
  const LINGER_MS = 1000;
  let rig: Rig;

  beforeEach(async () => {
    rig = await startRig({ adapter: { bridgePoolMax: 1, timeouts: { bridgeLingerMs: LINGER_MS } } });
  });

  afterEach(async () => {
    await stopRig(rig);
  });

  const bridgeRequests = (from: number): string[] =>
    rig.peer.requests.slice(from).map((r) => `${r.method} ${r.path.split('?')[0]}`).filter((r) => r.startsWith('POST /ari/bridges') && !r.endsWith('/addChannel') || r.startsWith('DELETE /ari/bridges'));

  /** Three calls up at once, then all three ended by their callers. */
  async function threeCalls(round: number): Promise<void> {
    rig.peer.buyers.fallback = { kind: 'answer', afterMs: 5 };
    const placed = [0, 1, 2].map((i) => rig.peer.placeCall({ ani: `+120255502${round}${i}`, dnis: CALLER.dnis }));
    const ends: Array<Promise<unknown>> = [];
    for (let i = 0; i < placed.length; i++) {
      const { leg, info } = await rig.calls.next();
      ends.push(watchEnd(leg).ended);
      expect((await leg.bridge({ uri: `+1555123000${i}` }, { answerTimeoutSec: 5, callerIdNumber: info.ani })).status).toBe('bridged');
    }
    for (const p of placed) p.hangup();
    await Promise.all(ends);
    await waitFor(() => rig.peer.channels().length === 0 && rig.adapter.stats().bridges === 0, 3000, 'the calls over');
  }

  it('keeps what a burst gave back while calls need it, then shrinks back to its size once a period passes unused', async () => {
    await threeCalls(1);
    expect(rig.adapter.stats().idleBridges).toBe(3);
    expect(bridgeRequests(0)).toEqual(['POST /ari/bridges', 'POST /ari/bridges', 'POST /ari/bridges']);

    // The next burst comes within the period: the three bridges take it, none made or destroyed.
    const before = rig.peer.requests.length;
    await threeCalls(2);
    expect(bridgeRequests(before)).toEqual([]);
    expect(rig.adapter.stats().idleBridges).toBe(3);

    // No call for two periods: the two beyond the size go, the oldest first.
    await waitFor(() => rig.adapter.stats().idleBridges === 1 && rig.peer.bridges().length === 1, 3 * LINGER_MS, 'the pool back to its size');
    expect(bridgeRequests(before)).toEqual(['DELETE /ari/bridges', 'DELETE /ari/bridges'].map((r) => expect.stringMatching(new RegExp(`^${r}/`))));
    await expectNothingDangles(rig);
  }, 15_000);
});
