/**
 * The API's route modules as one express router. Each module builds a Router of its own, and the node used to mount
 * each at the root: express then entered every module's router before the one that answers, for every request,
 * setting up a dispatch of its own there (closures, a saved baseUrl and params) and, when none of the module's
 * routes matched, leaving it through setImmediate, a turn of the event loop. One router holding every module's
 * layers, in the same order, matches the same routes in one dispatch.
 *
 * Layers keep their meaning: a module's middleware (router.use) ran before for every request walking through that
 * module, as it does here. What a module router alone had is refused: router.param handlers (they would apply to
 * every module's routes) and router options (case-sensitive or strict paths, merged params).
 */
import { Router } from 'express';

export function oneRouter(routers: readonly Router[]): Router {
  const all = Router();
  const defaults = Router() as unknown as Record<string, unknown>;
  for (const r of routers) {
    const own = r as unknown as Record<string, unknown>;
    if (Object.keys((own.params ?? {}) as object).length > 0) throw new Error('oneRouter: a route module uses router.param, which would apply to every module');
    for (const option of ['caseSensitive', 'mergeParams', 'strict']) {
      if (own[option] !== defaults[option]) throw new Error(`oneRouter: a route module sets the router option ${option}`);
    }
    all.stack.push(...r.stack);
  }
  return all;
}
