import { Router as ExpressRouter } from 'express';
import type { Registry } from 'prom-client';

/** A dependency /ready reports on; `check` must answer fast and never throw. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<boolean> | boolean;
}

/**
 * Operational endpoints, unauthenticated by design (load balancers and Prometheus call them; they expose
 * no account data): /health says the process is up, /ready that every dependency is connected.
 */
export function opsRoutes(checks: ReadinessCheck[], registry: Registry, onCheck?: (name: string, up: boolean) => void, details?: () => Promise<Record<string, unknown>>): ExpressRouter {
  const router = ExpressRouter();
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok', uptimeSec: Math.round(process.uptime()) });
  });
  router.get('/ready', async (_req, res) => {
    const results: Record<string, 'up' | 'down'> = {};
    await Promise.all(
      checks.map(async (c) => {
        let up = false;
        try {
          up = await Promise.race([Promise.resolve(c.check()), new Promise<boolean>((r) => setTimeout(() => r(false), 1_000).unref())]);
        } catch {
          up = false;
        }
        results[c.name] = up ? 'up' : 'down';
        onCheck?.(c.name, up);
      }),
    );
    const ready = Object.values(results).every((s) => s === 'up');
    // Details inform and never decide readiness; one that cannot be read (Redis down: already a dependency) is left out.
    const extra = details ? await details().catch(() => undefined) : undefined;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', dependencies: results, ...(extra ? { details: extra } : {}) });
  });
  router.get('/metrics', async (_req, res) => {
    res.set('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  });
  return router;
}
