import type { ExchangeNode, NodeOptions } from '../../app/exchange-node';
import { FreeSwitchAdapter } from '../../app/switch/freeswitch';
import { promptFiles } from '../../app/switch/factory';
import { silentLogger } from '../../app/observability/logger';
import { FreeSwitchPeer } from '../peers/freeswitch';
import { header } from '../peers/freeswitch/commands';
import { callxDialplanVariables } from '../peers/freeswitch/dialplan';
import type { FreeSwitchTimeouts } from '../../app/switch/freeswitch/config';
import { startTestNode } from '../support/node';
import type { TestInfra } from '../support/infra';
import type { FarEnd, PlacedCall, SwitchHarness } from './harness';

/** The FreeSWITCH peer (real ESL over TCP) and a node running the FreeSWITCH adapter. */
export class FreeSwitchHarness implements SwitchHarness {
  readonly switchName = 'freeswitch';
  readonly peer = new FreeSwitchPeer({ playbackMs: 20 });
  /** The variables the shipped dialplan (dialplan/callx.xml) sets on every carrier call before `socket`. */
  readonly dialplanVariables = callxDialplanVariables();
  private node?: ExchangeNode;
  /** every node started on this peer, stopped by stop() */
  private readonly nodes: ExchangeNode[] = [];
  private eslPort?: number;
  /** the adapter of the node started last (new calls go to it) */
  adapter?: FreeSwitchAdapter;

  /** `env`: extra settings for the node (e.g. fraud thresholds); `timeouts`: the adapter's, for tests that stop it */
  constructor(
    private readonly env: Record<string, string> = {},
    private readonly timeouts: Partial<FreeSwitchTimeouts> = {},
  ) {}

  async start(infra: TestInfra, options: Omit<NodeOptions, 'switches'> = {}): Promise<ExchangeNode> {
    this.eslPort = await this.peer.listenInbound();
    return this.startNode(infra, options);
  }

  /**
   * Another node on the same switch (after start): a second node, or the first one restarted on its schema and
   * prefix. `env` adds to the harness's settings.
   */
  async startNode(infra: TestInfra, options: Omit<NodeOptions, 'switches'> = {}, env: Record<string, string> = {}): Promise<ExchangeNode> {
    const eslPort = this.eslPort!;
    this.node = await startTestNode(infra, { ...this.env, ...env, FS_ESL_PORT: String(eslPort) }, {
      ...options,
      switches: (core) => {
        this.adapter = new FreeSwitchAdapter({
          outboundListen: { host: '127.0.0.1', port: 0 },
          inbound: { host: '127.0.0.1', port: eslPort, password: 'ClueCon' },
          sofiaProfile: 'external',
          buyerGateway: 'buyers',
          prompts: promptFiles(core.config),
          logger: silentLogger(),
          timeouts: { reconnectInitialMs: 50, reconnectMaxMs: 200, ...this.timeouts },
        });
        return [this.adapter];
      },
    });
    this.nodes.push(this.node);
    return this.node;
  }

  async stop(): Promise<void> {
    for (const node of this.nodes) await node.stop();
    await this.peer.inbound.close();
  }

  setBuyer(destination: string, script: FarEnd): void {
    this.peer.buyers.set(destination, script);
  }

  setConsumer(number: string, script: FarEnd): void {
    this.peer.consumers.set(number, script);
  }

  placeCall(p: { ani: string; dnis: string; hangupAfterMs?: number; hangupAfterBridgeMs?: number }): PlacedCall {
    const session = this.peer.placeCall({
      app: { host: '127.0.0.1', port: this.adapter!.port },
      ani: p.ani,
      dnis: p.dnis,
      hangupAfterMs: p.hangupAfterMs,
      hangupAfterBridgeMs: p.hangupAfterBridgeMs,
      variables: this.dialplanVariables,
    });
    return {
      hangup: () => session.callerHangup(),
      finished: session.finished.then((record) => ({
        bridgeTargets: record.bridges.map((b) => b.target ?? b.dialString),
        bridgedTo: record.bridges.find((b) => b.result === 'SUCCESS')?.target,
        prompts: session.commands.filter((c) => header(c, 'execute-app-name') === 'playback').map((c) => header(c, 'execute-app-arg') ?? c.body ?? ''),
        hangupCause: record.hangupCause,
      })),
    };
  }

  dropControlConnection(): void {
    this.peer.inbound.dropConnections();
  }

  originateCount(): number {
    let n = 0;
    for (const c of this.peer.inbound.connections) n += c.commands.filter((cmd) => /^(bg)?api originate/.test(cmd.line)).length;
    return n;
  }
}
