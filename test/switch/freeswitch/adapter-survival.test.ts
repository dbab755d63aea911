/**
 * The FreeSWITCH adapter when the node stops or another node takes over, driven through the peer: a graceful
 * stop leaves bridged calls talking (and reports no end for them) and hands calls in setup to the fallback; a
 * second adapter finds the calls in progress and adopts them, reading their real end off the inbound connection.
 */
import { FreeSwitchAdapter } from '../../../app/switch/freeswitch';
import { silentLogger } from '../../../app/observability/logger';
import type { FreeSwitchTimeouts } from '../../../app/switch/freeswitch/config';
import { FreeSwitchPeer, type CallSession } from '../../peers/freeswitch';
import { CallQueue, sleep, waitFor, watchEnd } from './helpers';

const TIMEOUTS: Partial<FreeSwitchTimeouts> = { handshakeMs: 1000, hangupCompleteMs: 1000, reconnectInitialMs: 50, reconnectMaxMs: 200, stopDrainMs: 300 };
const CALLER_VARS = { continue_on_fail: 'true', hangup_after_bridge: 'true', sip_ignore_remote_cause: 'true', socket_resume: 'true' };

describe('FreeSWITCH adapter: graceful stop and adoption', () => {
  let peer: FreeSwitchPeer;
  let inboundPort: number;
  const adapters: FreeSwitchAdapter[] = [];

  async function startAdapter(calls: CallQueue): Promise<FreeSwitchAdapter> {
    const a = new FreeSwitchAdapter({
      outboundListen: { host: '127.0.0.1', port: 0 },
      inbound: { host: '127.0.0.1', port: inboundPort, password: 'ClueCon' },
      buyerGateway: 'buyers',
      sofiaProfile: 'external',
      prompts: {},
      logger: silentLogger(),
      timeouts: TIMEOUTS,
    });
    adapters.push(a);
    await a.start(calls.handler);
    await waitFor(() => a.isConnected(), 2000, 'the inbound connection');
    return a;
  }

  beforeEach(async () => {
    peer = new FreeSwitchPeer();
    inboundPort = await peer.listenInbound();
    peer.buyers.set('+15551230001', { kind: 'answer', afterMs: 5 });
  });

  afterEach(async () => {
    for (const a of adapters.splice(0)) await a.stop();
    await peer.close();
  });

  const place = (port: number): CallSession =>
    peer.placeCall({ app: { host: '127.0.0.1', port }, ani: '+12025550123', dnis: '+18005550100', variables: CALLER_VARS });

  async function bridgedCall(adapter: FreeSwitchAdapter, calls: CallQueue, callId: string) {
    const session = place(adapter.port);
    const { leg, info } = await calls.next();
    const outcome = await leg.bridge({ uri: '+15551230001' }, { answerTimeoutSec: 5, callerIdNumber: info.ani, tags: { callx_call_id: callId, callx_target_id: 't-1' } });
    expect(outcome.status).toBe('bridged');
    return { session, leg };
  }

  it('stop: a bridged call keeps talking on the switch and its leg reports no end; new calls fall back', async () => {
    const calls = new CallQueue();
    const adapter = await startAdapter(calls);
    const { session, leg } = await bridgedCall(adapter, calls, 'call-1');
    const end = watchEnd(leg);
    const port = adapter.port;
    const stopping = adapter.stop();
    await sleep(50);
    // Refused at once: `socket` cannot connect and the dialplan falls back.
    const refused = await place(port).finished;
    expect(refused).toEqual(expect.objectContaining({ connectFailed: true, releasedToDialplan: true }));
    await stopping;
    await sleep(200);
    expect(peer.core.live.has(session.channel.uuid)).toBe(true);
    expect(session.record.hangupAt).toBeUndefined();
    session.callerHangup();
    const record = await session.finished;
    expect(record).toEqual(expect.objectContaining({ hangupBy: 'caller', releasedToDialplan: false }));
    await sleep(50);
    expect(end.count()).toBe(0);
  });

  it('stop: a call still in setup (answered, not bridged) is handed to the fallback', async () => {
    const calls = new CallQueue();
    const adapter = await startAdapter(calls);
    const session = place(adapter.port);
    const { leg } = await calls.next();
    await leg.answer();
    const end = watchEnd(leg);
    await adapter.stop();
    const record = await session.finished;
    expect(record).toEqual(expect.objectContaining({ releasedToDialplan: true, hangupBy: 'dialplan', hangupCause: 'NORMAL_TEMPORARY_FAILURE' }));
    expect((await end.ended).hungUpBy).toBe('system');
  });

  it('another adapter finds the call, adopts it, and reports its real end without touching the buyer leg', async () => {
    const first = await startAdapter(new CallQueue());
    const calls = new CallQueue();
    const owner = await startAdapter(calls);
    const { session } = await bridgedCall(owner, calls, 'call-2');
    await owner.stop(); // leaves the bridged call on the switch

    const found = await first.callsInProgress();
    expect(found).toEqual([{ callId: 'call-2', switchCallId: session.channel.uuid, bridged: true }]);
    const adopted = await first.adopt(found[0]!);
    expect(adopted).toBeDefined();
    const end = watchEnd(adopted!);
    await sleep(300);
    const hungUpAt = Date.now();
    session.callerHangup();
    const e = await end.ended;
    expect(e.hungUpBy).toBe('caller');
    expect(e.cause).toBe('NORMAL_CLEARING');
    expect(Math.abs(e.endedAt.getTime() - hungUpAt)).toBeLessThan(200);
    expect(e.bridgedAt!.getTime()).toBeLessThan(hungUpAt - 250);
    const record = await session.finished;
    expect(record.bridges[0]).toEqual(expect.objectContaining({ result: 'SUCCESS', endedBy: 'caller' }));
    const sent = [...peer.inbound.connections].flatMap((c) => c.commands.map((cmd) => cmd.line));
    expect(sent.some((l) => /uuid_kill|uuid_transfer|hupall/.test(l))).toBe(false);
    expect(await first.callsInProgress()).toEqual([]);
    expect(await first.adopt(found[0]!)).toBeUndefined();
  });

  it('an adopted call ended by the buyer is reported as the buyer hanging up', async () => {
    peer.buyers.set('+15551230001', { kind: 'answer', afterMs: 5, hangupAfterMs: 600 });
    const calls = new CallQueue();
    const owner = await startAdapter(calls);
    await bridgedCall(owner, calls, 'call-3');
    await owner.stop();
    const other = await startAdapter(new CallQueue());
    const [found] = await other.callsInProgress();
    const end = watchEnd((await other.adopt(found!))!);
    expect((await end.ended).hungUpBy).toBe('buyer');
  });

  it("an adopted call's end is still seen after the inbound connection was cut and came back; only its events are taken", async () => {
    const calls = new CallQueue();
    const owner = await startAdapter(calls);
    const { session } = await bridgedCall(owner, calls, 'call-4');
    await owner.stop();
    const other = await startAdapter(new CallQueue());
    const [found] = await other.callsInProgress();
    const end = watchEnd((await other.adopt(found!))!);
    peer.inbound.dropConnections();
    await waitFor(() => !other.isConnected(), 1000, 'the drop');
    await waitFor(() => other.isConnected() && [...peer.inbound.connections].some((c) => c.commands.some((cmd) => cmd.line === `filter Unique-ID ${session.channel.uuid}`)), 3000, 'the reconnect and its filter');
    await sleep(100);
    session.callerHangup();
    expect((await end.ended).hungUpBy).toBe('caller');
    const lines = [...peer.inbound.connections].flatMap((c) => c.commands.map((cmd) => cmd.line));
    expect(lines).toEqual(expect.arrayContaining(['filter Event-Name BACKGROUND_JOB', 'event json CHANNEL_HANGUP_COMPLETE CHANNEL_BRIDGE CHANNEL_UNBRIDGE']));
    await waitFor(() => [...peer.inbound.connections].some((c) => c.commands.some((cmd) => cmd.line === 'nixevent CHANNEL_HANGUP_COMPLETE CHANNEL_BRIDGE CHANNEL_UNBRIDGE')), 2000, 'the events to be dropped once no call is adopted');
  });

  it("a sweep asks the switch for a call's id once: never for this node's own calls, once for another node's", async () => {
    const ownCalls = new CallQueue();
    const owner = await startAdapter(ownCalls);
    const otherCalls = new CallQueue();
    const other = await startAdapter(otherCalls);
    const { session } = await bridgedCall(owner, ownCalls, 'call-6');
    const inSetup = place(other.port); // on the other node, not bridged, no id yet
    await otherCalls.next();
    const ownInSetup = place(owner.port);
    await ownCalls.next();
    const getvars = (uuid: string) =>
      [...peer.inbound.connections].flatMap((c) => c.commands).filter((cmd) => cmd.line === `api uuid_getvar ${uuid} callx_call_id`).length;
    const listed = [{ callId: 'call-6', switchCallId: session.channel.uuid, bridged: true }];

    expect(await owner.callsInProgress()).toEqual(listed);
    expect(await owner.callsInProgress()).toEqual(listed);
    expect(getvars(session.channel.uuid)).toBe(0);
    expect(await other.callsInProgress()).toEqual(listed);
    expect(await other.callsInProgress()).toEqual(listed);
    expect(getvars(session.channel.uuid)).toBe(1);
    // A caller leg in setup on another node may still be tagged (our id is set just before its bridge): each node
    // asks for the other's at every sweep, and never for its own, which it knows untagged.
    expect(getvars(inSetup.channel.uuid)).toBe(2);
    expect(getvars(ownInSetup.channel.uuid)).toBe(2);

    // Once the owner stops, its call is still known by the other node without asking again; once it ends, no more.
    await owner.stop();
    expect(await other.callsInProgress()).toEqual(listed);
    expect(getvars(session.channel.uuid)).toBe(1);
    session.callerHangup();
    await session.finished;
    expect(await other.callsInProgress()).toEqual([]);
  });

  it('calls without our id are not listed', async () => {
    const calls = new CallQueue();
    const adapter = await startAdapter(calls);
    place(adapter.port);
    await calls.next();
    expect(await adapter.callsInProgress()).toEqual([]);
  });
});
