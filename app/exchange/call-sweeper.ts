import type { Logger } from '../observability/logger';
import type { CallInProgress, SwitchAdapter } from '../switch/port';
import type { LiveCall, LiveCallsRegistry } from '../cache/live-calls-registry';
import type { CallFlow } from './call-flow';
import type { KnownCallLookup } from './hand-over';

export interface SweeperDeps {
  registry: LiveCallsRegistry;
  flow: Pick<CallFlow, 'adopt' | 'closeLost' | 'isRunning'>;
  switches: readonly SwitchAdapter[];
  logger: Logger;
  /** what the database knows of a call on the switch that no registry lists */
  knownCall?: KnownCallLookup;
  /** default 5 s */
  intervalMs?: number;
}

/** What one sweep did (logged, and read by tests). */
export interface SweepReport {
  claimed: number;
  adopted: number;
  released: number;
  closed: number;
  /** calls adopted from what the database knew, with no registry entry anywhere */
  adoptedUnregistered: number;
}

type Adoptable = Required<Pick<SwitchAdapter, 'callsInProgress' | 'adopt'>> & SwitchAdapter;

/**
 * Finishes the calls of dead nodes, every few seconds and at start. A node is dead when its heartbeat is gone
 * (killed: expired; stopped: deleted). Its registry entries for the switches this node drives are claimed
 * atomically (two sweepers never both get one), then each is settled against what the switch lists:
 * - on the switch and bridged: adopted, and finished through CallFlow when it really ends;
 * - on the switch, not bridged: handed to the switch's fallback, closed as node_lost, slots given back;
 * - not on the switch (and the switch answered): closed as node_lost with what is known, slots given back.
 * A claimed entry stays in this node's registry hash until settled, so a sweep that cannot list the switch
 * retries it next time and a sweeper that dies leaves it to the next claimer.
 * A bridged call on the switch with our call id that no registry lists (Redis lost it), seen so in two sweeps
 * in a row, is adopted from its database record, if that is still open.
 */
export class CallSweeper {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<SweepReport> | undefined;
  /** claimed entries not yet settled, by call id */
  private readonly pending = new Map<string, LiveCall>();
  /** per switch: bridged calls seen with no registry entry at the last sweep */
  private suspects = new Map<string, Set<string>>();

  constructor(private readonly deps: SweeperDeps) {}

  start(): void {
    void this.sweep();
    this.timer = setInterval(() => void this.sweep(), this.deps.intervalMs ?? 5_000);
    this.timer.unref();
    void this.sweepOnceConnected();
  }

  /**
   * At start the switches' control connections may still be coming up: sweep again as soon as they are (a node
   * restarted after a graceful stop adopts its own calls at once, not an interval later). Gives up after 10 s.
   */
  private async sweepOnceConnected(): Promise<void> {
    const switches = this.adoptable();
    if (switches.every((s) => s.isConnected())) return;
    const deadline = Date.now() + 10_000;
    while (this.timer && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200).unref());
      if (switches.every((s) => s.isConnected())) {
        if (this.timer) await this.sweep();
        return;
      }
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.current;
  }

  /** One sweep; a sweep asked for while one runs joins it. Never rejects. */
  sweep(): Promise<SweepReport> {
    this.current ??= this.sweepOnce()
      .catch((err: Error) => {
        this.deps.logger.error({ err: err.message }, 'sweep for calls of dead nodes failed; retried at the next');
        return emptyReport();
      })
      .finally(() => (this.current = undefined));
    return this.current;
  }

  private adoptable(): Adoptable[] {
    return this.deps.switches.filter((s): s is Adoptable => typeof s.callsInProgress === 'function' && typeof s.adopt === 'function');
  }

  private async sweepOnce(): Promise<SweepReport> {
    const report = emptyReport();
    const switches = this.adoptable();
    if (switches.length === 0) return report;
    await this.claimDeadOwners(switches.map((s) => s.name), report);
    for (const sw of switches) await this.sweepSwitch(sw, report);
    if (report.claimed + report.adopted + report.released + report.closed + report.adoptedUnregistered > 0) this.deps.logger.info(report, 'took over calls of dead nodes');
    return report;
  }

  private async claimDeadOwners(switchNames: string[], report: SweepReport): Promise<void> {
    const { registry } = this.deps;
    for (const owner of await registry.deadNodes()) {
      const claimed = await registry.claim(owner, switchNames);
      if (claimed.length > 0) this.deps.logger.warn({ owner, calls: claimed.length }, 'claimed the calls of a dead node');
      report.claimed += claimed.length;
      for (const call of claimed) this.pending.set(call.callId, call);
    }
  }

  private async sweepSwitch(sw: Adoptable, report: SweepReport): Promise<void> {
    const log = this.deps.logger.child({ switch: sw.name });
    if (!sw.isConnected()) {
      // At start, or while the adapter reconnects: its reconnect is logged by the adapter, the sweep just waits.
      log.debug({ waiting: this.pendingFor(sw.name).length }, 'switch not connected; calls of dead nodes wait for the next sweep');
      return;
    }
    let listed: CallInProgress[];
    try {
      listed = await sw.callsInProgress();
    } catch (err) {
      // Nothing may be concluded from a list we did not get: claimed calls wait for the next sweep.
      log.warn({ err: (err as Error).message, waiting: this.pendingFor(sw.name).length }, 'could not list the calls on the switch; calls of dead nodes wait for the next sweep');
      return;
    }
    const onSwitch = new Map(listed.map((c) => [c.callId, c]));
    for (const call of this.pendingFor(sw.name)) {
      try {
        await this.settle(sw, call, onSwitch.get(call.callId), report);
        this.pending.delete(call.callId);
      } catch (err) {
        log.error({ err: (err as Error).message, callId: call.callId }, 'could not settle a call of a dead node; retried at the next sweep');
      }
    }
    await this.adoptUnregistered(sw, listed, report, log);
  }

  private async settle(sw: Adoptable, call: LiveCall, found: CallInProgress | undefined, report: SweepReport): Promise<void> {
    const { flow } = this.deps;
    if (flow.isRunning(call.callId)) return; // already handed over to this node by the switch itself
    if (found?.bridged) {
      const leg = await sw.adopt(found);
      if (leg) {
        const adopted: LiveCall = { ...call, state: 'bridged', bridgedAt: call.bridgedAt ?? found.bridgedAt?.toISOString() };
        if (call.state !== 'bridged') this.deps.registry.put(adopted); // bridged after its node's last write
        void flow.adopt(leg, adopted);
        report.adopted++;
        return;
      }
      found = undefined; // gone between the listing and the adoption
    }
    if (found) {
      await sw.releaseToFallback?.(found);
      await flow.closeLost(call, 'released');
      report.released++;
      return;
    }
    await flow.closeLost(call, 'gone');
    report.closed++;
  }

  private async adoptUnregistered(sw: Adoptable, listed: CallInProgress[], report: SweepReport, log: Logger): Promise<void> {
    const { registry, flow, knownCall } = this.deps;
    const previous = this.suspects.get(sw.name) ?? new Set<string>();
    const now = new Set<string>();
    this.suspects.set(sw.name, now);
    const candidates = listed.filter((c) => c.bridged && !flow.isRunning(c.callId) && !this.pending.has(c.callId));
    if (candidates.length === 0 || !knownCall) return;
    const registered = await registry.allCallIds();
    for (const c of candidates) {
      if (registered.has(c.callId)) continue;
      if (!previous.has(c.callId)) {
        now.add(c.callId); // give a call just set up, or just ended, a sweep's time to show in the registry
        continue;
      }
      const known = await knownCall(c.callId);
      if (!known || known.ended) continue;
      if (!(await registry.markAdopting(c.callId))) continue;
      const leg = await sw.adopt(c);
      if (!leg) continue;
      const call: LiveCall = { ...known.call, switchName: sw.name, switchCallId: c.switchCallId, state: 'bridged', bridgedAt: known.call.bridgedAt ?? c.bridgedAt?.toISOString() };
      registry.put(call);
      log.warn({ callId: c.callId }, 'adopted a bridged call that no registry listed, from its database record');
      void flow.adopt(leg, call);
      report.adoptedUnregistered++;
    }
  }

  private pendingFor(switchName: string): LiveCall[] {
    return [...this.pending.values()].filter((c) => c.switchName === switchName);
  }
}

function emptyReport(): SweepReport {
  return { claimed: 0, adopted: 0, released: 0, closed: 0, adoptedUnregistered: 0 };
}
