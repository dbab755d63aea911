/**
 * The API guard as one layer (app/api/guard.ts) runs its steps as express runs a row of layers: in order, an error
 * (passed on, thrown or a rejected promise) skipping the ordinary steps after it to the next error step, which is
 * skipped when there is none; what is left over goes to the next layer.
 */
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { guardOf } from '../../app/api/guard';

/** An ordinary step and an error step (four arguments), typed. */
const step = (f: RequestHandler): RequestHandler => f;
const errorStep = (f: ErrorRequestHandler): ErrorRequestHandler => f;
const req = {} as Request;
const res = {} as Response;

/** Runs a guard; resolves with the steps that ran and what it passed on. */
function run(steps: Parameters<typeof guardOf>[0], ran: string[]): Promise<{ ran: string[]; out: unknown }> {
  return new Promise((resolve) => guardOf(steps)(req, res, ((err?: unknown) => resolve({ ran, out: err })) as NextFunction));
}

it('runs every ordinary step in order and skips error steps when nothing failed', async () => {
  const ran: string[] = [];
  const r = await run([
    step((_q, _s, next) => { ran.push('a'); next(); }),
    errorStep((_e: unknown, _q: Request, _s: Response, next: NextFunction) => { ran.push('error step'); next(); }),
    step(async (_q, _s, next) => { ran.push('b'); next(); }),
  ], ran);
  expect(r).toEqual({ ran: ['a', 'b'], out: undefined });
});

it.each([
  ['passed to next', (_q: Request, _s: Response, next: NextFunction) => next(new Error('no'))],
  ['thrown', () => { throw new Error('no'); }],
  ['a rejected promise', async () => { throw new Error('no'); }],
])('an error %s skips the ordinary steps to the next error step, and leaves the guard with it', async (_how, failing) => {
  const ran: string[] = [];
  const r = await run([
    failing,
    step((_q, _s, next) => { ran.push('skipped'); next(); }),
    errorStep((err: unknown, _q: Request, _s: Response, next: NextFunction) => { ran.push(`counted ${(err as Error).message}`); next(err); }),
    step((_q, _s, next) => { ran.push('also skipped'); next(); }),
  ], ran);
  expect(r.ran).toEqual(['counted no']);
  expect(r.out).toEqual(new Error('no'));
});

it('an error after the last error step leaves the guard untouched by it', async () => {
  const ran: string[] = [];
  const r = await run([
    errorStep((_e: unknown, _q: Request, _s: Response, next: NextFunction) => { ran.push('error step'); next(); }),
    step((_q, _s, next) => { ran.push('a'); next(new Error('late')); }),
  ], ran);
  expect(r).toEqual({ ran: ['a'], out: new Error('late') });
});
