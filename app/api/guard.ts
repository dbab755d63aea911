/**
 * The API's guard (address gate, key, failure count, rate limit, body rules, body parser) as one express layer
 * instead of one per step. Express matches every layer's path against the request and trims and restores the
 * mount prefix around each; for the guard's six steps, on every API request, that was a good part of express's
 * share of the CPU. The steps run as express would run them in a row of layers mounted at the same path: each
 * gets `next`; an error (passed to next, thrown, or a rejected promise) skips the ordinary steps after it and goes
 * to the next error step (four arguments), and leaves the guard with it when there is none; an error step is
 * skipped when there is no error.
 */
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';

type Step = RequestHandler | ErrorRequestHandler;

export function guardOf(steps: readonly Step[]): RequestHandler {
  const isErrorStep = steps.map((s) => s.length === 4);
  return (req: Request, res: Response, out: NextFunction): void => {
    let i = 0;
    const next = (err?: unknown): void => {
      // 'route' and 'router' are express's own words: its router acts on them as after the last layer.
      if (err === 'route' || err === 'router') {
        out(err);
        return;
      }
      const failed = Boolean(err); // as express's router: a falsy value is no error
      while (i < steps.length && isErrorStep[i] !== failed) i++;
      if (i === steps.length) {
        out(failed ? (err as Error) : undefined);
        return;
      }
      const step = steps[i++]!;
      try {
        const r: unknown = failed ? (step as ErrorRequestHandler)(err, req, res, next) : (step as RequestHandler)(req, res, next);
        // A promise (anything with a then) that rejects is an error, as express's layers treat it.
        if (r !== null && typeof r === 'object' && typeof (r as PromiseLike<unknown>).then === 'function') {
          (r as PromiseLike<unknown>).then(undefined, (e: unknown) => next(e || new Error('Rejected promise')));
        }
      } catch (e) {
        next(e);
      }
    };
    next();
  };
}
