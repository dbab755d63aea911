/**
 * Live call events go through Redis only while someone, on some node, watches: an unwatched exchange does not
 * spend a msgpack encoding and a PUBLISH on every call event. Two or three nodes' live-call servers on real
 * HTTP, real socket.io clients and the real Redis adapter; the publishes are counted by a Redis subscriber.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import type { Socket } from 'socket.io-client';
import { attachLiveCalls, type LiveCalls } from '../../app/realtime/live-calls';
import { CallEventBus, type CallEvent } from '../../app/exchange/call-events';
import { silentLogger } from '../../app/observability/logger';
import type { BidWriter } from '../../app/store/bid-writer';
import { PrincipalCache } from '../../app/api/principal-cache';
import { createApiKey } from '../../app/store/api-keys';
import { createTestInfra, eventually, TEST_REDIS_URL, type TestInfra } from '../support/infra';
import { connectLive } from '../support/live-client';

interface LiveNode {
  port: number;
  events: CallEventBus;
  close(): Promise<void>;
}

let infra: TestInfra;
let agentKey: string;
let counter: Redis;
let published = 0;
const open: LiveNode[] = [];
const sockets: Socket[] = [];

beforeAll(async () => {
  infra = await createTestInfra('live_presence');
  agentKey = (await createApiKey(infra.pool, { role: 'agent' })).key;
  counter = new Redis(TEST_REDIS_URL);
  // The adapter broadcasts on "<key>#<namespace>#[room#]"; its node-to-node requests (call events go to the other
  // nodes as server-side emits, projected there per role) use "<key>-request#...": both are counted.
  await counter.psubscribe(`${infra.prefix}socket.io*`);
  counter.on('pmessageBuffer', () => published++);
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.disconnect();
  for (const n of open.splice(0)) await n.close();
});

afterAll(async () => {
  counter.disconnect();
  await infra?.cleanup();
});

async function startLiveNode(watcherHeartbeatMs: number): Promise<LiveNode> {
  const server = http.createServer();
  const events = new CallEventBus();
  const live: LiveCalls = attachLiveCalls(server, {
    pool: infra.pool,
    principals: new PrincipalCache(infra.pool),
    access: { onChange: () => () => undefined }, // no revocations here
    bids: {} as BidWriter, // no bid updates here
    events,
    redisUrl: TEST_REDIS_URL,
    redisPrefix: infra.prefix,
    logger: silentLogger(),
    watcherHeartbeatMs,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const node = { port: (server.address() as AddressInfo).port, events, close: () => live.close() };
  open.push(node);
  return node;
}

async function watch(node: LiveNode): Promise<{ seen: CallEvent[]; socket: Socket }> {
  const { socket, events } = await connectLive(node.port, agentKey);
  sockets.push(socket);
  return { seen: events, socket };
}

let n = 0;
const started = (): CallEvent => ({ type: 'call.started', callId: `call-${++n}`, at: new Date().toISOString(), direction: 'inbound', ani: '+18135550100', dnis: '+18885550100', switchName: 'test' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Emits call events on `node` until `seen` gets a new one, and says how long that took. */
async function relayDelay(node: LiveNode, seen: CallEvent[], what: string): Promise<number> {
  const t0 = Date.now();
  const before = seen.length;
  await eventually(async () => {
    node.events.emit(started());
    await sleep(10);
    return seen.length > before;
  }, what, 3_000);
  return Date.now() - t0;
}

it('publishes nothing while nobody watches, and reaches a watcher on another node at once, also from a node started after it', async () => {
  const heartbeat = 60_000; // so only the join announcement and a new node's question can explain a quick relay
  const a = await startLiveNode(heartbeat);
  const b = await startLiveNode(heartbeat);
  await sleep(200); // both adapters subscribed
  published = 0;
  for (let i = 0; i < 20; i++) a.events.emit(started());
  await sleep(300);
  expect(published).toBe(0);

  const watcher = await watch(b);
  expect(await relayDelay(a, watcher.seen, 'a call event to reach the watcher')).toBeLessThan(1_500);
  expect(published).toBeGreaterThan(0);

  const c = await startLiveNode(heartbeat); // learns of b's watcher by asking, not from a heartbeat
  expect(await relayDelay(c, watcher.seen, 'a node started later to relay to the watcher')).toBeLessThan(1_500);
});

it('stops publishing once the last watcher has gone for three heartbeats', async () => {
  const heartbeat = 100;
  const a = await startLiveNode(heartbeat);
  const b = await startLiveNode(heartbeat);
  const watcher = await watch(b);
  await relayDelay(a, watcher.seen, 'a call event to reach the watcher');
  watcher.socket.disconnect();
  await sleep(3 * heartbeat + 300);
  published = 0;
  for (let i = 0; i < 20; i++) a.events.emit(started());
  await sleep(300);
  expect(published).toBe(0);
});
