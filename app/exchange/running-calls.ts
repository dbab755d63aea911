import type { CallLeg, LegEnd } from '../switch/port';

/** What a flow's wait for its call's end settles with when the node lets go of the call at stop. */
export const LEFT = Symbol('left on the switch');
export type Left = typeof LEFT;

/** One flow running on this node: its promise, and how to let go of it at stop. */
interface Running {
  done: Promise<void>;
  leave(): void;
}

/**
 * The call flows running on this node, by call id: routed here, or adopted here. Each flow waits for its call's end
 * on a promise that the leg settles with its LegEnd, or that letGo() settles with LEFT when the node stops and the
 * switch keeps the call (a stopped adapter never reports the end of a call it leaves on the switch).
 */
export class RunningCalls {
  private readonly running = new Map<string, Running>();
  /** set by letGo(): flows stop steering their calls */
  leaving = false;

  get size(): number {
    return this.running.size;
  }

  has(callId: string): boolean {
    return this.running.has(callId);
  }

  /** Runs one call's flow, known by its call id until it is done. */
  async track(callId: string, leg: CallLeg, body: (ended: Promise<LegEnd | Left>) => Promise<void>): Promise<void> {
    let leave!: () => void;
    const ended = new Promise<LegEnd | Left>((resolve) => {
      leg.onEnded(resolve);
      leave = () => resolve(LEFT);
    });
    if (this.leaving) leave();
    const done = body(ended);
    this.running.set(callId, { done, leave });
    try {
      await done;
    } finally {
      if (this.running.get(callId)?.done === done) this.running.delete(callId);
    }
  }

  /** Lets go of every flow (their calls' ends settle as LEFT) and of any flow started later; answers how many. */
  letGo(): number {
    this.leaving = true;
    for (const r of this.running.values()) r.leave();
    return this.running.size;
  }

  /** Waits for every flow to be done. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }
}
