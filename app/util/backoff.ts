/**
 * Exponential backoff with full jitter, capped. Used by every reconnecting client (ESL, ARI, Redis, Postgres)
 * so a dead dependency is retried politely and a fleet of nodes does not reconnect in lockstep.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor?: number;
  /** 0..1: how much of each delay is randomised (1 = full jitter). */
  jitter?: number;
}

export class Backoff {
  private attempt = 0;
  constructor(private readonly opts: BackoffOptions, private readonly random: () => number = Math.random) {}

  /** The delay before the next attempt; each call grows it until `maxMs`. */
  next(): number {
    const factor = this.opts.factor ?? 2;
    const base = Math.min(this.opts.maxMs, this.opts.initialMs * factor ** this.attempt);
    this.attempt += 1;
    const jitter = this.opts.jitter ?? 0.5;
    return Math.round(base * (1 - jitter) + base * jitter * this.random());
  }

  /** Call after a success so the next failure starts small again. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects with a clear message when `promise` does not settle within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
