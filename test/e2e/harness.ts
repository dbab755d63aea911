import type { ExchangeNode, NodeOptions } from '../../app/exchange-node';
import type { TestInfra } from '../support/infra';

/** What a scripted buyer or consumer does, the same words for every switch peer. */
export type FarEnd =
  | { kind: 'answer'; afterMs?: number; hangupAfterMs?: number }
  | { kind: 'busy'; afterMs?: number }
  | { kind: 'no_answer' }
  | { kind: 'fail'; cause: string };

/** What the switch saw of one call, in switch-neutral words. */
export interface SwitchCallResult {
  /** destinations the exchange tried to bridge to, in order */
  bridgeTargets: string[];
  /** the one that answered, if any */
  bridgedTo?: string;
  /** prompts (sound files) played to the caller */
  prompts: string[];
  hangupCause?: string;
}

export interface PlacedCall {
  /** hang up now (CANCEL before answer, BYE after) */
  hangup(): void;
  finished: Promise<SwitchCallResult>;
}

/**
 * One switch peer plus one exchange node wired to it, driven by the shared end-to-end scenarios
 * (test/e2e/scenarios.ts), so FreeSWITCH and Asterisk pass the same scenarios, written once.
 */
export interface SwitchHarness {
  readonly switchName: string;
  start(infra: TestInfra, options?: Omit<NodeOptions, 'switches'>): Promise<ExchangeNode>;
  stop(): Promise<void>;
  setBuyer(destination: string, script: FarEnd): void;
  setConsumer(number: string, script: FarEnd): void;
  /** a carrier call to a tracking number; `hangupAfterBridgeMs`: the caller hangs up that long after the bridge */
  placeCall(p: { ani: string; dnis: string; hangupAfterMs?: number; hangupAfterBridgeMs?: number }): PlacedCall;
  /** cut the switch's control connection (ESL inbound socket, ARI WebSocket) as a restart would */
  dropControlConnection(): void;
  /** originate commands the switch received (to check none was placed) */
  originateCount(): number;
}
