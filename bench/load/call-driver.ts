/**
 * Drives calls through a switch peer into a running exchange at a set rate, and measures each call's setup time
 * and outcome. Shared by `npm run simulate` and `npm run bench:cps`; the switch-specific part is a CallPlacer
 * (bench/load/placers.ts).
 */

/** What became of one call the driver placed. */
export interface PlacedOutcome {
  bridged: boolean;
  /** for a bridged call: from the call reaching the exchange to the exchange dialling its first buyer */
  setupMs?: number;
  /** for a failed call: a short reason, counted in the summary */
  failure?: string;
}

export interface PlacedCallHandle {
  finished: Promise<PlacedOutcome>;
  /** the caller hangs up now */
  hangup(): void;
}

/** Places one call through a switch peer. */
export interface CallPlacer {
  readonly switchName: string;
  place(p: { ani: string; dnis: string; talkMs: number }): PlacedCallHandle;
  /** calls up and bridged right now */
  bridgedNow(): number;
}

export interface DriveOptions {
  dnis: string[];
  /** the caller hangs up this long after the bridge (how long each call holds a channel) */
  talkMs: number;
  /** first ANI; each call takes the next number */
  firstAni?: number;
}

export interface CallStats {
  placed: number;
  bridged: number;
  failed: number;
  active: number;
  /** setup latencies in ms, of bridged calls */
  setupMs: number[];
  errors: Map<string, number>;
}

export class CallDriver {
  readonly stats: CallStats = { placed: 0, bridged: 0, failed: 0, active: 0, setupMs: [], errors: new Map() };
  private readonly inFlight = new Set<Promise<void>>();
  private readonly handles = new Map<Promise<void>, PlacedCallHandle>();
  private ani: number;

  constructor(readonly placer: CallPlacer, private readonly opts: DriveOptions) {
    this.ani = opts.firstAni ?? 2_000_000;
  }

  /** Places one call (from `ani`, else the next number); its handle's `finished` settles when it is over. */
  place(talkMs = this.opts.talkMs, ani = `+1813${String(this.ani++ % 8_000_000 + 2_000_000)}`): PlacedCallHandle {
    const i = this.stats.placed++;
    const call = this.placer.place({ ani, dnis: this.opts.dnis[i % this.opts.dnis.length]!, talkMs });
    this.stats.active++;
    const done = call.finished.then(
      (outcome) => {
        if (outcome.bridged) {
          this.stats.bridged++;
          if (outcome.setupMs !== undefined) this.stats.setupMs.push(outcome.setupMs);
        } else {
          this.stats.failed++;
          const why = outcome.failure ?? 'unknown';
          this.stats.errors.set(why, (this.stats.errors.get(why) ?? 0) + 1);
        }
      },
      (err: Error) => {
        this.stats.failed++;
        this.stats.errors.set(err.message, (this.stats.errors.get(err.message) ?? 0) + 1);
      },
    ).finally(() => {
      this.stats.active--;
      this.inFlight.delete(done);
      this.handles.delete(done);
    });
    this.inFlight.add(done);
    this.handles.set(done, call);
    return call;
  }

  /** Places calls at `cps` for `seconds` (ticks every 10 ms so the rate is smooth), calling `onTick` each second. */
  async runRate(cps: number, seconds: number, onTick?: (elapsedSec: number) => void): Promise<void> {
    const start = Date.now();
    const total = Math.round(cps * seconds);
    let sent = 0;
    let lastTick = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const elapsed = (Date.now() - start) / 1000;
        const due = Math.min(total, Math.floor(elapsed * cps));
        while (sent < due) {
          this.place();
          sent++;
        }
        if (onTick && Math.floor(elapsed) > lastTick) {
          lastTick = Math.floor(elapsed);
          onTick(lastTick);
        }
        if (sent >= total) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
    });
  }

  /**
   * Waits for every call placed so far to finish. A call still going `graceMs` after the last was placed is
   * stuck (a real switch would have timed it out): the caller hangs it up and it counts as failed, `stuck`, so
   * a run ends with a figure instead of waiting forever.
   */
  async settle(graceMs = this.opts.talkMs + 30_000): Promise<void> {
    const deadline = Date.now() + graceMs;
    while (this.inFlight.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) {
        for (const [done, call] of this.handles) {
          if (!this.inFlight.has(done)) continue;
          this.stats.errors.set('stuck', (this.stats.errors.get('stuck') ?? 0) + 1);
          call.hangup();
        }
        await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => setTimeout(r, 5_000).unref())]);
        return;
      }
      await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => setTimeout(r, Math.min(left, 1_000)).unref())]);
    }
  }
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}
