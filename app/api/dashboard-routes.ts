/**
 * Serves the dashboard's built files (`npm run build` puts them in dist/dashboard) at /dashboard/. The page
 * itself needs no key; everything it shows comes from the API and socket.io, which do. Without a build the
 * route answers 503 saying how to make one, and the API works as ever. A file that is not there falls through
 * to the app's JSON 404.
 */
import fs from 'node:fs';
import path from 'node:path';
import express, { Router as ExpressRouter } from 'express';
import type { Logger } from '../observability/logger';

export function dashboardRoutes(dir: string, log: Logger): ExpressRouter {
  const router = ExpressRouter();
  const root = path.resolve(dir);
  const built = fs.existsSync(path.join(root, 'index.html'));
  if (!built) {
    log.warn({ dir: root }, 'the dashboard is not built (npm run build); /dashboard answers 503');
    router.use('/dashboard', (_req, res) => {
      res.status(503).json({ error: { code: 'dashboard_not_built', message: `the dashboard is not built in ${root}: run npm run build (or set DASHBOARD_DIR)` } });
    });
    return router;
  }
  router.use('/dashboard', express.static(root, { index: 'index.html', maxAge: '1h', setHeaders: (res, file) => {
    // The page names its hashed assets: the page must always be fresh, the assets may be cached.
    if (file.endsWith('index.html')) res.setHeader('Cache-Control', 'no-cache');
  } }));
  return router;
}
