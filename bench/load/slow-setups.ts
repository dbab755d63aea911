/**
 * Records each call's placement time and setup time, with the bench process's own stalls, so slow setups can be
 * lined up against stalls of the peer (which measures them) and of the exchange (BENCH_STALL_DIR in bench:cps).
 */
import { writeFileSync } from 'node:fs';
import type { CallPlacer, PlacedCallHandle } from './call-driver';
import type { Stall } from './stall-probe';

export class SlowSetups implements CallPlacer {
  readonly calls: Array<{ placedAt: number; setupMs: number }> = [];
  readonly switchName: string;

  constructor(private readonly inner: CallPlacer, private readonly probe: { stalls: Stall[]; stop(): void }) {
    this.switchName = inner.switchName;
  }

  place(p: { ani: string; dnis: string; talkMs: number }): PlacedCallHandle {
    const placedAt = Date.now();
    const h = this.inner.place(p);
    return {
      hangup: () => h.hangup(),
      finished: h.finished.then((o) => {
        if (o.setupMs !== undefined) this.calls.push({ placedAt, setupMs: o.setupMs });
        return o;
      }),
    };
  }

  bridgedNow(): number {
    return this.inner.bridgedNow();
  }

  save(file: string, startedAt: number): void {
    this.probe.stop();
    writeFileSync(file, JSON.stringify({ startedAt, calls: this.calls, peerStalls: this.probe.stalls }));
  }
}
