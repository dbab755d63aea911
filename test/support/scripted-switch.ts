import type { BridgeOptions, BridgeOutcome, CallInProgress, CallInfo, CallLeg, Destination, HangupCause, InboundCallHandler, LegEnd, SwitchAdapter } from '../../app/switch/port';
import { ScriptedLeg, type BuyerBehaviour } from './scripted-leg';

/**
 * A small switch double shared by several nodes' adapters, for the adoption tests: it keeps its calls whatever
 * happens to the node that set them up, tags them with our call id as the real switches do (the bridge's
 * callx_call_id tag), lists them (callsInProgress), and hands a bridged one to whichever adapter adopts it.
 * Per the port contract, an adapter that stopped never reports a call's end to the flow that had it.
 * The switch-faithful versions of all this are the peers under test/peers (the drill drives them).
 */
export interface SwitchCall {
  leg: ScriptedLeg;
  callId?: string;
  bridgedAt?: Date;
  releasedToFallback: boolean;
}

/** switch call ids, unique across the switch doubles of a test file (as a real switch's are across restarts) */
let switchCallSeq = 0;

export class ScriptedSwitch {
  readonly calls = new Map<string, SwitchCall>();
  /** when set, callsInProgress rejects (the switch cannot be asked) */
  listingFails = false;
  /** when set, a prompt plays on and on: the caller leg does not end after playAndHangup */
  endlessPrompts = false;

  adapter(name = 'test'): ScriptedSwitchAdapter {
    return new ScriptedSwitchAdapter(this, name);
  }

  /** A caller dials a tracking number; the call reaches this adapter's node. */
  place(adapter: ScriptedSwitchAdapter, p: { ani: string; dnis: string; behaviour?: (uri: string) => BuyerBehaviour; callId?: string }): SwitchCall {
    const id = `sw-${++switchCallSeq}`;
    const leg = new ScriptedLeg(id, p.behaviour ?? (() => ({ kind: 'hold' })));
    const call: SwitchCall = { leg, releasedToFallback: false, callId: p.callId };
    this.calls.set(id, call);
    adapter.deliver(call, { switchCallId: id, switchName: adapter.name, ani: p.ani, dnis: p.dnis, direction: 'inbound', ...(p.callId ? { callId: p.callId } : {}) });
    return call;
  }

  /** A call up on the switch with our call id whose node is gone (it never reaches a node now). */
  park(callId: string, switchCallId: string): SwitchCall {
    const call: SwitchCall = { leg: new ScriptedLeg(switchCallId), releasedToFallback: false, callId };
    this.calls.set(switchCallId, call);
    return call;
  }

  byCallId(callId: string): SwitchCall | undefined {
    return [...this.calls.values()].find((c) => c.callId === callId);
  }

  /** Calls up on the switch carrying our call id. */
  list(): CallInProgress[] {
    const out: CallInProgress[] = [];
    for (const [switchCallId, c] of this.calls) {
      if (c.leg.ended || !c.callId || c.releasedToFallback) continue;
      out.push({ callId: c.callId, switchCallId, bridged: c.bridgedAt !== undefined, bridgedAt: c.bridgedAt });
    }
    return out;
  }
}

/** One node's adapter over the shared switch. */
export class ScriptedSwitchAdapter implements SwitchAdapter {
  stopped = false;
  private handler: InboundCallHandler | undefined;
  readonly adopted: string[] = [];
  readonly released: string[] = [];

  constructor(private readonly sw: ScriptedSwitch, readonly name: string) {}

  async start(onInboundCall: InboundCallHandler): Promise<void> {
    this.handler = onInboundCall;
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  isConnected(): boolean {
    return !this.stopped;
  }

  async callsInProgress(): Promise<CallInProgress[]> {
    if (this.sw.listingFails) throw new Error('switch not reachable');
    return this.sw.list();
  }

  async adopt(call: CallInProgress): Promise<CallLeg | undefined> {
    const c = this.sw.calls.get(call.switchCallId);
    if (!c || c.leg.ended) return undefined;
    this.adopted.push(call.callId);
    return new AdapterLeg(this, c);
  }

  async releaseToFallback(call: CallInProgress): Promise<void> {
    const c = this.sw.calls.get(call.switchCallId);
    if (!c || c.bridgedAt) return;
    c.releasedToFallback = true;
    this.released.push(call.callId);
  }

  get endlessPrompts(): boolean {
    return this.sw.endlessPrompts;
  }

  deliver(call: SwitchCall, info: CallInfo): void {
    if (!this.handler || this.stopped) throw new Error(`adapter ${this.name} is not taking calls`);
    this.handler(new AdapterLeg(this, call), info);
  }
}

/** The caller leg as one adapter shows it: tags the switch call with our call id, silent after its adapter stops. */
class AdapterLeg implements CallLeg {
  constructor(
    private readonly adapter: ScriptedSwitchAdapter,
    private readonly call: SwitchCall,
  ) {}

  get id(): string {
    return this.call.leg.id;
  }

  get ended(): boolean {
    return this.call.leg.ended;
  }

  answer(): Promise<void> {
    return this.call.leg.answer();
  }

  async bridge(to: Destination, opts: BridgeOptions): Promise<BridgeOutcome> {
    if (opts.tags?.callx_call_id) this.call.callId = opts.tags.callx_call_id;
    const outcome = await this.call.leg.bridge(to, opts);
    if (outcome.status === 'bridged') this.call.bridgedAt = outcome.answeredAt;
    return outcome;
  }

  async playAndHangup(prompt: string, cause: HangupCause): Promise<void> {
    if (this.adapter.endlessPrompts) return;
    return this.call.leg.playAndHangup(prompt, cause);
  }

  hangup(cause: HangupCause): Promise<void> {
    return this.call.leg.hangup(cause);
  }

  onEnded(listener: (end: LegEnd) => void): void {
    this.call.leg.onEnded((end) => {
      if (!this.adapter.stopped) listener(end);
    });
  }
}
