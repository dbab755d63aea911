/**
 * Configuration of the FreeSWITCH adapter, and the timeouts of every ESL operation (none may wait forever).
 */
import type { Logger } from '../../observability/logger';

export interface FreeSwitchTimeouts {
  /** connect + linger + event subscription + filter on a new outbound socket. */
  handshakeMs: number;
  /** Reply to an ordinary command (sendmsg, filter, exit). */
  commandMs: number;
  /** From `answer` to its CHANNEL_EXECUTE_COMPLETE. */
  answerMs: number;
  /** Added to a bridge's answer timeout before the adapter gives up on hearing the result. */
  bridgeMarginMs: number;
  /** Longest a prompt may play before the adapter hangs up anyway. */
  playbackMs: number;
  /** From hangup request to CHANNEL_HANGUP. */
  hangupMs: number;
  /** From CHANNEL_HANGUP to CHANNEL_HANGUP_COMPLETE (linger) before the leg is reported ended anyway. */
  hangupCompleteMs: number;
  /** A frame that started arriving must finish within this time, or the connection is closed as stalled. */
  stallMs: number;
  /** Inbound: auth and subscription after TCP connect. */
  inboundLoginMs: number;
  /** Inbound: how often `api status` checks the connection, and how long it may take. */
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  /** Added to an originate's answer timeout before the adapter stops waiting for BACKGROUND_JOB. */
  originateMarginMs: number;
  /** Inbound reconnect backoff. */
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  /** Graceful stop: how long calls in progress go on with their events before bridged ones are left on the switch. */
  stopDrainMs: number;
}

export const DEFAULT_TIMEOUTS: FreeSwitchTimeouts = {
  handshakeMs: 5_000,
  commandMs: 3_000,
  answerMs: 5_000,
  bridgeMarginMs: 10_000,
  playbackMs: 60_000,
  hangupMs: 5_000,
  hangupCompleteMs: 5_000,
  stallMs: 10_000,
  inboundLoginMs: 5_000,
  heartbeatIntervalMs: 15_000,
  heartbeatTimeoutMs: 5_000,
  originateMarginMs: 15_000,
  reconnectInitialMs: 500,
  reconnectMaxMs: 30_000,
  stopDrainMs: 10_000,
};

export interface FreeSwitchAdapterConfig {
  /** Where the outbound socket server listens (the dialplan's `socket <host>:<port> async full`). */
  outboundListen: { host: string; port: number };
  /** The switch's inbound ESL endpoint (event_socket.conf.xml). */
  inbound: { host: string; port: number; password: string };
  /** Gateway used to bridge buyers given as E.164 numbers. */
  buyerGateway?: string;
  /** Gateway used to call consumers (originate); defaults to buyerGateway. */
  consumerGateway?: string;
  /** Sofia profile used to reach buyers given as SIP URIs (sofia/<profile>/user@host). */
  sofiaProfile: string;
  /** Prompt name -> sound file on the switch (e.g. no_buyer -> ivr/ivr-call_cannot_be_completed_as_dialed.wav). */
  prompts: Record<string, string>;
  logger: Logger;
  /**
   * `host:port` FreeSWITCH connects to for answered originated calls. Defaults to outboundListen, which only
   * works when that is an address the switch can reach (not 0.0.0.0).
   */
  originateSocketAddress?: string;
  timeouts?: Partial<FreeSwitchTimeouts>;
}

/** The address FreeSWITCH connects back to, given the port the server actually listens on. */
export function socketAddressFor(cfg: FreeSwitchAdapterConfig, port: number): string | undefined {
  if (cfg.originateSocketAddress) return cfg.originateSocketAddress;
  const { host } = cfg.outboundListen;
  if (host === '0.0.0.0' || host === '::' || host === '') return undefined;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
