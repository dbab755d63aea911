/**
 * The API's route modules served as one router (app/api/one-router.ts): the same routes answer as when each module
 * was mounted on its own, in the modules' order (an earlier module's route wins over a later pattern that also
 * matches), errors still reach the app's error handler, and a module that relies on what only its own router had
 * (router.param, router options) is refused when the node starts rather than silently applying to every module.
 */
import express, { Router } from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { oneRouter } from '../../app/api/one-router';

async function serve(app: express.Express): Promise<{ get(path: string): Promise<{ status: number; text: string }>; close(): Promise<void> }> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    async get(path) {
      const r = await fetch(`${base}${path}`);
      return { status: r.status, text: await r.text() };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

it("answers each module's routes, the earlier module first, and passes errors and misses on to the app", async () => {
  const exportModule = Router();
  exportModule.get('/v1/calls/export.csv', (_req, res) => { res.send('csv'); });
  const callsModule = Router();
  callsModule.get('/v1/calls/:id', (req, res) => { res.send(`call ${req.params.id}`); });
  const failing = Router();
  failing.get('/v1/fails', () => { throw new Error('boom'); });
  const app = express();
  app.use(oneRouter([exportModule, callsModule, failing]));
  app.use((_req, res) => { res.status(404).send('no such route'); });
  app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => { res.status(500).send(`handled ${err.message}`); });
  const s = await serve(app);
  try {
    expect(await s.get('/v1/calls/export.csv')).toEqual({ status: 200, text: 'csv' });
    expect(await s.get('/v1/calls/c-1')).toEqual({ status: 200, text: 'call c-1' });
    expect(await s.get('/v1/fails')).toEqual({ status: 500, text: 'handled boom' });
    expect(await s.get('/v1/nothing')).toEqual({ status: 404, text: 'no such route' });
  } finally {
    await s.close();
  }
});

it('refuses a module with router.param or router options of its own', () => {
  const withParam = Router();
  withParam.param('id', (_req, _res, next) => next());
  expect(() => oneRouter([Router(), withParam])).toThrow(/router\.param/);
  expect(() => oneRouter([Router({ mergeParams: true })])).toThrow(/mergeParams/);
  expect(() => oneRouter([Router({ caseSensitive: true })])).toThrow(/caseSensitive/);
});
