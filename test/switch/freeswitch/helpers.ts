/**
 * Test helpers for driving the FreeSWITCH adapter through the peer: a queue of handed-over calls, a logger that
 * keeps its lines, and small waits.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Logger } from '../../../app/observability/logger';
import type { CallInfo, CallLeg, LegEnd } from '../../../app/switch/port';

export interface HandedCall {
  leg: CallLeg;
  info: CallInfo;
}

/** Collects the calls the adapter hands to its handler (the pipeline's stand-in). */
export class CallQueue {
  private readonly items: HandedCall[] = [];
  private waiters: Array<() => void> = [];

  readonly handler = (leg: CallLeg, info: CallInfo): void => {
    this.items.push({ leg, info });
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  };

  async next(timeoutMs = 3000): Promise<HandedCall> {
    const deadline = Date.now() + timeoutMs;
    while (this.items.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no call was handed over');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.items.shift() as HandedCall;
  }
}

/** Resolves with the first LegEnd and counts how many times onEnded fired. */
export function watchEnd(leg: CallLeg): { ended: Promise<LegEnd>; count: () => number } {
  let n = 0;
  const ended = new Promise<LegEnd>((resolve) =>
    leg.onEnded((end) => {
      n++;
      resolve(end);
    }),
  );
  return { ended, count: () => n };
}

/** A logger whose JSON lines are kept for assertions. */
export function capturingLogger(level = 'info'): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level }, stream), lines: () => lines };
}

export async function waitFor(pred: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
