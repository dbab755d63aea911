import type { ExchangeNode, NodeOptions } from '../../app/exchange-node';
import { AsteriskAdapter, type AriRestClientName, type AsteriskTimeouts } from '../../app/switch/asterisk';
import { causeCode, causeName } from '../../app/switch/asterisk/causes';
import { promptFiles } from '../../app/switch/factory';
import type { HangupCause } from '../../app/switch/port';
import { createLogger, silentLogger } from '../../app/observability/logger';
import { AsteriskPeer, confPeerOptions, type EndpointScript } from '../peers/asterisk';
import { startTestNode } from '../support/node';
import type { TestInfra } from '../support/infra';
import type { FarEnd, PlacedCall, SwitchHarness } from './harness';


/** The shared far-end words as the Asterisk peer's endpoint scripts (causes as Q.850 numbers). */
function endpointScript(script: FarEnd): EndpointScript {
  switch (script.kind) {
    case 'answer':
      return { kind: 'answer', afterMs: script.afterMs, hangupAfterMs: script.hangupAfterMs };
    case 'busy':
      return { kind: 'busy', afterMs: script.afterMs };
    case 'no_answer':
      return { kind: 'no_answer' };
    case 'fail':
      return { kind: 'fail', cause: causeCode(script.cause as HangupCause) ?? 41 };
  }
}

/** The Asterisk peer (ARI over real HTTP and WebSocket) and a node running the Asterisk adapter. */
export class AsteriskHarness implements SwitchHarness {
  readonly switchName = 'asterisk';
  /** Configured as asterisk-conf/ tells an operator to configure Asterisk (channelvars, send_connected_line). */
  readonly peer = new AsteriskPeer({ app: 'callx', ...confPeerOptions(), playbackMs: 20 });
  /** every node started on this peer, stopped by stop() */
  private readonly nodes: ExchangeNode[] = [];
  /** every adapter started on this peer */
  private readonly adapters: AsteriskAdapter[] = [];

  /**
   * `env`: extra settings for the node (e.g. fraud thresholds), as FreeSwitchHarness takes them; `restClient`:
   * the adapter's ARI REST client (ARI_REST_CLIENT), our node:http one by default.
   */
  constructor(
    private readonly env: Record<string, string> = {},
    private readonly restClient: AriRestClientName = 'http',
    /** Adapter timeouts on top of the quick reconnects every harness uses (e.g. a short stopDrainMs). */
    private readonly timeouts: Partial<AsteriskTimeouts> = {},
  ) {}

  async start(infra: TestInfra, options: Omit<NodeOptions, 'switches'> = {}): Promise<ExchangeNode> {
    await this.peer.listen();
    return this.startNode(infra, options);
  }

  /**
   * Another node on the same switch (after start): a second node, or the first one restarted on its schema and
   * prefix. `env` adds to the harness's settings.
   */
  async startNode(infra: TestInfra, options: Omit<NodeOptions, 'switches'> = {}, env: Record<string, string> = {}): Promise<ExchangeNode> {
    const node = await startTestNode(infra, { ...this.env, ...env }, {
      ...options,
      switches: (core) => [
        this.adapter({
          url: this.peer.url,
          username: 'callx',
          password: 'secret',
          app: 'callx',
          buyerTrunk: 'buyers',
          consumerTrunk: 'consumers',
          prompts: promptFiles(core.config, 'asterisk'),
          logger: process.env.ARI_TEST_LOG ? createLogger(process.env.ARI_TEST_LOG) : silentLogger(),
          timeouts: { reconnectInitialMs: 50, reconnectMaxMs: 200, ...this.timeouts },
          restClient: this.restClient,
        }),
      ],
    });
    this.nodes.push(node);
    return node;
  }

  private adapter(cfg: ConstructorParameters<typeof AsteriskAdapter>[0]): AsteriskAdapter {
    const adapter = new AsteriskAdapter(cfg);
    this.adapters.push(adapter);
    return adapter;
  }

  /**
   * No channel left on the switch, and no bridge but the empty ones the adapters keep for the next call
   * (bridge-pool.ts): as many as their pools hold, each with no channel in it.
   */
  nothingLeft(): boolean {
    const idle = this.adapters.reduce((n, a) => n + a.stats().idleBridges, 0);
    const bridges = this.peer.bridges();
    return this.peer.channels().length === 0 && bridges.length === idle && bridges.every((b) => b.channels.length === 0);
  }

  async stop(): Promise<void> {
    for (const node of this.nodes) await node.stop();
    await this.peer.close();
  }

  setBuyer(destination: string, script: FarEnd): void {
    this.peer.buyers.set(destination, endpointScript(script));
  }

  setConsumer(number: string, script: FarEnd): void {
    this.peer.consumers.set(number, endpointScript(script));
  }

  placeCall(p: { ani: string; dnis: string; hangupAfterMs?: number; hangupAfterBridgeMs?: number }): PlacedCall {
    const call = this.peer.placeCall({ ani: p.ani, dnis: p.dnis, hangupAfterMs: p.hangupAfterMs, hangupAfterBridgeMs: p.hangupAfterBridgeMs });
    const callerId = call.channel.id;
    return {
      hangup: () => this.peer.hangupFarEnd(callerId),
      finished: call.finished.then((record) => {
        // Buyer legs the adapter originated for this caller (appArgs `buyer,<caller channel id>`), in order.
        const legs = this.peer.originated.filter((o) => o.appArgs[0] === 'buyer' && o.appArgs[1] === callerId);
        const bridged = legs.find((o) => record.bridgedWith.includes(o.channelId));
        const plays = this.peer.requests.filter((r) => r.method === 'POST' && r.path.startsWith(`/ari/channels/${callerId}/play`));
        return {
          bridgeTargets: legs.map((o) => o.target.resource),
          bridgedTo: bridged?.target.resource,
          prompts: plays.map((r) => decodeURIComponent(/[?&]media=([^&]*)/.exec(r.path)?.[1] ?? '')),
          hangupCause: record.endedBy === 'app' ? causeName(record.cause) : undefined,
        };
      }),
    };
  }

  dropControlConnection(): void {
    this.peer.dropEventSockets();
  }

  originateCount(): number {
    return this.peer.requests.filter((r) => r.method === 'POST' && /^\/ari\/channels(\/[^/?]+)?(\?|$)/.test(r.path)).length;
  }
}
