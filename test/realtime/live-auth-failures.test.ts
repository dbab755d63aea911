/**
 * Unknown keys are rate limited per source address on the /live socket.io handshake too (issue 13, finding 8):
 * the same count as the REST API's (API_AUTH_FAILURES_PER_MINUTE, per address, in Redis), so failures over REST
 * and over /live add up, and an address past the limit is refused before its key is looked up, whichever way it
 * comes in.
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { createTestInfra, type TestInfra } from '../support/infra';
import { startTestNode } from '../support/node';
import { connectLive } from '../support/live-client';

let infra: TestInfra;
let node: ExchangeNode;
let valid: string;

beforeAll(async () => {
  infra = await createTestInfra('live_auth_failures');
  node = await startTestNode(infra, { API_AUTH_FAILURES_PER_MINUTE: '6', BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false', RECORDER_ENABLED: 'false' });
  valid = (await createApiKey(infra.pool, { role: 'admin' })).key;
});

afterAll(async () => {
  await node?.stop();
  await infra?.cleanup();
});

/** The handshake's refusal: its message and data, as a socket.io client gets them in connect_error. */
async function refusal(key: string): Promise<{ message: string; data?: { code?: string; retryAfterSec?: number } }> {
  try {
    const { socket } = await connectLive(node.httpPort, key);
    socket.disconnect();
  } catch (err) {
    return { message: (err as Error).message, data: (err as { data?: { code?: string; retryAfterSec?: number } }).data };
  }
  throw new Error('the handshake was accepted');
}

const rest = (key: string) => fetch(`http://127.0.0.1:${node.httpPort}/v1/calls`, { headers: { authorization: `Bearer ${key}` } });

it('an address guessing keys over /live (and REST, one count) is refused at the handshake before any key lookup, for the rest of the minute', async () => {
  // The window is a calendar minute: start well inside one so the burst does not straddle two.
  if (Date.now() % 60_000 > 45_000) await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 100));
  const live = await connectLive(node.httpPort, valid); // a good key is let in, and costs nothing
  live.socket.disconnect();
  for (let i = 0; i < 3; i++) expect((await rest(`cx_guess-rest${i}`)).status).toBe(401);
  for (let i = 0; i < 3; i++) expect((await refusal(`cx_guess-live${i}`)).message).toMatch(/^unauthenticated/);

  const lookups = jest.spyOn(node.pool, 'query');
  try {
    const limited = await refusal('cx_guess-more');
    expect(limited.message).toMatch(/^rate_limited/);
    expect(limited.data?.code).toBe('rate_limited');
    expect(limited.data?.retryAfterSec).toBeGreaterThanOrEqual(1);
    expect(limited.data?.retryAfterSec).toBeLessThanOrEqual(60);
    // Refused before the lookup: a valid key from this address waits too, over /live and over REST.
    expect((await refusal(valid)).message).toMatch(/^rate_limited/);
    expect((await rest(valid)).status).toBe(429);
    expect(lookups).not.toHaveBeenCalled();
  } finally {
    lookups.mockRestore();
  }
});
