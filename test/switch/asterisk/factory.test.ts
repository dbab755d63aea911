/**
 * The Asterisk adapter as the composition root builds it: from the ARI_* environment through the switch factory,
 * against the Asterisk peer with the same user, password, app and trunk names.
 */
import { loadConfig } from '../../../app/config';
import { silentLogger } from '../../../app/observability/logger';
import { createSwitchAdapters, promptFiles } from '../../../app/switch/factory';
import { AsteriskPeer } from '../../peers/asterisk';
import { CallQueue, expectNothingDangles, waitFor } from './helpers';
import type { SwitchAdapter } from '../../../app/switch/port';
import type { AsteriskAdapter } from '../../../app/switch/asterisk';

describe('switch factory: asterisk', () => {
  const peer = new AsteriskPeer({ app: 'fromenv', username: 'ops', password: 'from-env', endpoints: ['carrier', 'btrunk', 'ctrunk'], timeScale: 0.2 });
  let adapter: SwitchAdapter;
  const calls = new CallQueue();

  beforeAll(async () => {
    await peer.listen();
    const config = loadConfig({
      SWITCHES: 'asterisk',
      ARI_URL: peer.url,
      ARI_USERNAME: 'ops',
      ARI_PASSWORD: 'from-env',
      ARI_APP: 'fromenv',
      ARI_BUYER_TRUNK: 'btrunk',
      ARI_CONSUMER_TRUNK: 'ctrunk',
      ARI_PROMPT_NO_BUYER: 'custom/no-buyer',
    });
    const adapters = createSwitchAdapters(config, silentLogger());
    expect(adapters.map((a) => a.name)).toEqual(['asterisk']);
    expect(promptFiles(config, 'asterisk').no_buyer_available).toBe('custom/no-buyer');
    adapter = adapters[0]!;
    await adapter.start(calls.handler);
  });

  afterAll(async () => {
    await adapter?.stop();
    await peer.close();
  });

  it('connects with the configured user and app, and dials buyers and consumers through the configured trunks', async () => {
    await waitFor(() => adapter.isConnected(), 3000, 'the ARI connection');
    expect(peer.eventConnections).toBe(1);

    peer.buyers.set('+15551230001', { kind: 'answer', afterMs: 5, hangupAfterMs: 1000 });
    peer.placeCall({ ani: '+18135550100', dnis: '+18885550400' });
    const { leg } = await calls.next();
    const outcome = await leg.bridge({ uri: '+15551230001' }, { answerTimeoutSec: 10, callerIdNumber: '+18135550100' });
    expect(outcome.status).toBe('bridged');
    expect(peer.originated.filter((o) => o.appArgs[0] === 'buyer').map((o) => o.target.resource)).toEqual(['+15551230001@btrunk']);

    peer.consumers.set('+13125550199', { kind: 'answer', afterMs: 5, hangupAfterMs: 1000 });
    const handed = calls.next();
    const placed = await adapter.originate!({ to: '+13125550199', callerIdNumber: '+18885550400', answerTimeoutSec: 10, callId: 'factory-call', campaignId: 'c' });
    expect(placed).toEqual({ status: 'answered' });
    const consumer = await handed;
    expect(consumer.info.direction).toBe('outbound');
    expect(peer.originated.filter((o) => o.appArgs[0] === 'outbound').map((o) => o.target.resource)).toEqual(['+13125550199@ctrunk']);
    await consumer.leg.hangup('NORMAL_CLEARING');
    await expectNothingDangles({ peer, adapter: adapter as AsteriskAdapter, calls });
  });
});

describe('switch factory: ARI_REST_CLIENT', () => {
  const env = (peer: AsteriskPeer, extra: Record<string, string>) =>
    loadConfig({ SWITCHES: 'asterisk', ARI_URL: peer.url, ARI_USERNAME: 'ops', ARI_PASSWORD: 'pw', ARI_APP: 'sel', ...extra });

  it.each([
    ['http', {}, ['GET /ari/asterisk/info']],
    ['http', { ARI_REST_CLIENT: 'http' }, ['GET /ari/asterisk/info']],
    ['ari-client', { ARI_REST_CLIENT: 'ari-client' }, ['GET /ari/api-docs/resources.json']],
  ])('%s client (%j): connects the way that client does and reconciles over it', async (_name, extra, first) => {
    const peer = new AsteriskPeer({ app: 'sel', username: 'ops', password: 'pw', timeScale: 0.2 });
    await peer.listen();
    const adapter = createSwitchAdapters(env(peer, extra), silentLogger())[0]!;
    try {
      await adapter.start(new CallQueue().handler);
      await waitFor(() => adapter.isConnected() && peer.requests.some((r) => r.path === '/ari/bridges'), 3000, 'connected and reconciled');
      const sent = peer.requests.filter((r) => r.status === 200).map((r) => `${r.method} ${r.path}`);
      expect(sent.slice(0, 1)).toEqual(first);
      expect(sent.some((r) => r.includes('/api-docs/'))).toBe(first[0]!.includes('/api-docs/'));
      expect(sent).toEqual(expect.arrayContaining(['GET /ari/channels', 'GET /ari/bridges']));
    } finally {
      await adapter.stop();
      await peer.close();
    }
  });

  it('refuses a value other than http or ari-client, naming the variable', () => {
    expect(() => loadConfig({ ARI_REST_CLIENT: 'fetch' })).toThrow(/ARI_REST_CLIENT/);
  });
});

describe('switch factory: ARI_BRIDGE_POOL', () => {
  it.each([
    ['unset (200)', {}, 1, 0],
    ['0', { ARI_BRIDGE_POOL: '0' }, 0, 1],
  ])('%s: a finished call leaves its empty bridge for the next one, or destroys it', async (_name, extra, idle, destroyed) => {
    const peer = new AsteriskPeer({ app: 'pool', username: 'ops', password: 'pw', timeScale: 0.2 });
    await peer.listen();
    const config = loadConfig({ SWITCHES: 'asterisk', ARI_URL: peer.url, ARI_USERNAME: 'ops', ARI_PASSWORD: 'pw', ARI_APP: 'pool', ...extra });
    const adapter = createSwitchAdapters(config, silentLogger())[0] as AsteriskAdapter;
    const calls = new CallQueue();
    try {
      await adapter.start(calls.handler);
      peer.buyers.set('+15551230002', { kind: 'answer', afterMs: 5, hangupAfterMs: 50 });
      peer.placeCall({ ani: '+18135550101', dnis: '+18885550401' });
      const { leg } = await calls.next();
      expect((await leg.bridge({ uri: '+15551230002' }, { answerTimeoutSec: 10, callerIdNumber: '+18135550101' })).status).toBe('bridged');
      await waitFor(() => peer.channels().length === 0 && adapter.stats().bridges === 0, 3000, 'the call over');
      await waitFor(() => peer.bridges().length === idle, 3000, `${idle} bridge left`);
      expect(adapter.stats().idleBridges).toBe(idle);
      expect(peer.requests.filter((r) => r.method === 'DELETE' && r.path.startsWith('/ari/bridges/'))).toHaveLength(destroyed);
    } finally {
      await adapter.stop();
      await peer.close();
    }
  });

  it('refuses a negative size, naming the variable', () => {
    expect(() => loadConfig({ ARI_BRIDGE_POOL: '-1' })).toThrow(/ARI_BRIDGE_POOL/);
  });
});
