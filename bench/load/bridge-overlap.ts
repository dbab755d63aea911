/**
 * How many calls a buyer destination had bridged at once, as the switch saw them: the check that a concurrency cap
 * held across exchange nodes. Fed with the peer's bridge attempts once each call is over.
 */
import type { BridgeAttempt } from '../../test/peers/freeswitch/session';

export class BridgeOverlap {
  /** destination -> [answered, ended] of each successful bridge */
  private readonly spans = new Map<string, Array<[number, number]>>();

  add(b: BridgeAttempt): void {
    if (b.result !== 'SUCCESS') return;
    // The target that answered (`sofia/gateway/buyers/+1555...`); its number is the last one in it.
    const numbers = (b.target ?? b.dialString).match(/\+?\d{6,}/g);
    const dest = numbers?.[numbers.length - 1] ?? b.target ?? b.dialString;
    const list = this.spans.get(dest) ?? [];
    // From the answer to the end: the part of the call its concurrency slot must cover.
    list.push([b.bridgedAt ?? b.startedAt, b.endedAt ?? Date.now()]);
    this.spans.set(dest, list);
  }

  clear(): void {
    this.spans.clear();
  }

  callsTo(destination: string): number {
    return this.spans.get(destination)?.length ?? 0;
  }

  /** The most bridges to `destination` up at the same moment. */
  peak(destination: string): number {
    const edges: Array<[number, number]> = [];
    for (const [s, e] of this.spans.get(destination) ?? []) edges.push([s, 1], [e, -1]);
    edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]); // an end before a start at the same ms
    let now = 0;
    let peak = 0;
    for (const [, d] of edges) {
      now += d;
      peak = Math.max(peak, now);
    }
    return peak;
  }
}
