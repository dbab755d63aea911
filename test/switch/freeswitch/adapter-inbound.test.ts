/**
 * The adapter's inbound ESL connection through the peer: connection state, reconnect with backoff after a drop,
 * a wrong password detected and backed off, a stalled switch, and originate (answered, failed, not connected).
 */
import { FreeSwitchAdapter } from '../../../app/switch/freeswitch';
import type { FreeSwitchAdapterConfig } from '../../../app/switch/freeswitch';
import { silentLogger } from '../../../app/observability/logger';
import { FreeSwitchPeer } from '../../peers/freeswitch';
import { CallQueue, capturingLogger, sleep, waitFor, watchEnd } from './helpers';

const TIMEOUTS = {
  handshakeMs: 1000,
  hangupCompleteMs: 1000,
  reconnectInitialMs: 100,
  reconnectMaxMs: 800,
  heartbeatIntervalMs: 150,
  heartbeatTimeoutMs: 150,
  inboundLoginMs: 1000,
};

describe('FreeSWITCH adapter: inbound connection and originate', () => {
  let peer: FreeSwitchPeer;
  let inboundPort: number;
  let adapter: FreeSwitchAdapter | undefined;
  let calls: CallQueue;

  beforeEach(async () => {
    peer = new FreeSwitchPeer();
    inboundPort = await peer.listenInbound();
    calls = new CallQueue();
  });

  afterEach(async () => {
    await adapter?.stop();
    adapter = undefined;
    await peer.close();
  });

  async function startAdapter(over: Partial<FreeSwitchAdapterConfig> = {}): Promise<FreeSwitchAdapter> {
    adapter = new FreeSwitchAdapter({
      outboundListen: { host: '127.0.0.1', port: 0 },
      inbound: { host: '127.0.0.1', port: inboundPort, password: 'ClueCon' },
      buyerGateway: 'buyers',
      consumerGateway: 'carrier',
      sofiaProfile: 'external',
      prompts: {},
      logger: silentLogger(),
      timeouts: TIMEOUTS,
      ...over,
    });
    await adapter.start(calls.handler);
    return adapter;
  }

  it('isConnected() follows the inbound connection and comes back after the switch drops it', async () => {
    const a = await startAdapter();
    await waitFor(() => a.isConnected(), 2000, 'the first connection');
    const subscribed = [...peer.inbound.connections][0]?.commands.map((c) => c.line);
    expect(subscribed).toEqual([
      'auth ClueCon',
      'event json CHANNEL_EXECUTE_COMPLETE BACKGROUND_JOB',
      'nixevent CHANNEL_EXECUTE_COMPLETE',
    ]);
    peer.inbound.dropConnections();
    await waitFor(() => !a.isConnected(), 1000, 'the drop to be noticed');
    await waitFor(() => a.isConnected(), 3000, 'the reconnect');
    expect(peer.inbound.connectTimes.length).toBe(2);
    expect(peer.inbound.connectionCount).toBe(1);
  });

  it('keeps retrying with growing delays while the switch is away', async () => {
    const a = await startAdapter();
    await waitFor(() => a.isConnected(), 2000, 'the first connection');
    peer.inbound.refuse = true;
    peer.inbound.dropConnections();
    await sleep(1500);
    const attempts = peer.inbound.connectTimes.slice(1);
    // Backoff 100, 200, 400, 800 ms (with jitter): a handful of tries, not one every 200 ms.
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.length).toBeLessThanOrEqual(6);
    const gaps = attempts.slice(1).map((t, i) => t - (attempts[i] as number));
    expect(gaps[gaps.length - 1]).toBeGreaterThan(150);
    peer.inbound.refuse = false;
    await waitFor(() => a.isConnected(), 3000, 'the reconnect');
  });

  it('a wrong password is reported as such and backed off (no 200 ms retry storm)', async () => {
    peer.inbound.password = 'SomethingElse';
    const { logger, lines } = capturingLogger();
    const a = await startAdapter({ logger, timeouts: { ...TIMEOUTS, reconnectInitialMs: 300, reconnectMaxMs: 2000 } });
    await sleep(1600);
    expect(a.isConnected()).toBe(false);
    // Backoff 150-300, 300-600, 600-1200 ms: at most 4 tries in 1.6 s; the library alone tries every 200 ms (8+).
    const attempts = peer.inbound.authAttempts.length;
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(4);
    const errors = lines().filter((l) => l.level === 50);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(String(errors[0]?.msg)).toContain('rejected the ESL password');
    expect(JSON.stringify(lines())).not.toContain('SomethingElse');
    expect(JSON.stringify(lines())).not.toContain('ClueCon');
    peer.inbound.password = 'ClueCon';
    await waitFor(() => a.isConnected(), 3000, 'login with the right password');
  });

  it('a switch that stops answering is detected by the heartbeat and reconnected', async () => {
    const a = await startAdapter();
    await waitFor(() => a.isConnected(), 2000, 'the first connection');
    peer.inbound.stall(true);
    await waitFor(() => !a.isConnected(), 2000, 'the heartbeat to fail');
    peer.inbound.stall(false);
    await waitFor(() => a.isConnected(), 3000, 'the reconnect');
  });

  it('originate answered: the consumer leg comes back through the outbound server as an outbound call', async () => {
    peer.consumers.set('+13125550199', { kind: 'answer', afterMs: 20, hangupAfterMs: 100 });
    const a = await startAdapter();
    await waitFor(() => a.isConnected(), 2000, 'the inbound connection');
    const result = await a.originate({
      to: '+13125550199',
      callerIdNumber: '+18005550100',
      answerTimeoutSec: 10,
      callId: 'call-123',
      campaignId: 'camp-9',
    });
    expect(result).toEqual({ status: 'answered' });
    const { leg, info } = await calls.next();
    expect(info).toEqual(
      expect.objectContaining({
        direction: 'outbound',
        campaignId: 'camp-9',
        // the port's ani is always the consumer: here the number we called; dnis is the caller id we showed
        ani: '+13125550199',
        dnis: '+18005550100',
        callId: 'call-123',
      }),
    );
    const end = watchEnd(leg);
    expect((await end.ended).hungUpBy).toBe('caller');
    const job = [...peer.inbound.connections][0]?.commands.find((c) => c.line.startsWith('bgapi originate'));
    expect(job?.line).toBe(
      `bgapi originate {origination_caller_id_number=+18005550100,originate_timeout=10,ignore_early_media=true,callx_call_id=call-123,callx_campaign_id=camp-9}sofia/gateway/carrier/+13125550199 '&socket(127.0.0.1:${a.port} async full)'`,
    );
  });

  it("originate carries the request's zip and lead id on the consumer leg, and the answered leg reads them back", async () => {
    peer.consumers.set('+13125550198', { kind: 'answer', afterMs: 20, hangupAfterMs: 100 });
    const a = await startAdapter();
    await waitFor(() => a.isConnected(), 2000, 'the inbound connection');
    const req = { to: '+13125550198', callerIdNumber: '+18005550100', answerTimeoutSec: 10, callId: 'call-124', campaignId: 'camp-9' };
    expect(await a.originate({ ...req, zip: '39201', leadId: 'lead-42' })).toEqual({ status: 'answered' });
    const { leg, info } = await calls.next();
    expect(info).toEqual(expect.objectContaining({ direction: 'outbound', callId: 'call-124', zip: '39201', leadId: 'lead-42' }));
    await watchEnd(leg).ended;
  });

  it('originate not answered: busy and no answer come back as failed with the cause', async () => {
    peer.consumers.set('+13125550100', { kind: 'busy' });
    peer.consumers.set('+13125550101', { kind: 'no_answer' });
    const a = await startAdapter();
    await waitFor(() => a.isConnected(), 2000, 'the inbound connection');
    const req = { callerIdNumber: '+18005550100', callId: 'c', campaignId: 'k' };
    expect(await a.originate({ ...req, to: '+13125550100', answerTimeoutSec: 5 })).toEqual({ status: 'failed', cause: 'USER_BUSY' });
    expect(await a.originate({ ...req, to: '+13125550101', answerTimeoutSec: 1 })).toEqual({ status: 'failed', cause: 'NO_ANSWER' });
  });

  it('originate without a connection or with a bad number fails at once with a reason', async () => {
    const a = await startAdapter({ inbound: { host: '127.0.0.1', port: 1, password: 'x' } });
    const req = { callerIdNumber: '+18005550100', callId: 'c', campaignId: 'k', answerTimeoutSec: 5 };
    const down = await a.originate({ ...req, to: '+13125550100' });
    expect(down).toEqual(expect.objectContaining({ status: 'failed', cause: 'NORMAL_TEMPORARY_FAILURE' }));
    const bad = await a.originate({ ...req, to: '123,evil' });
    expect(bad).toEqual(expect.objectContaining({ status: 'failed', cause: 'INVALID_NUMBER_FORMAT' }));
  });
});
