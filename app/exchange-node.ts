import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Pool } from 'pg';
import type { Config } from './config';
import type { Logger } from './observability/logger';
import { createMetrics, type Metrics } from './observability/metrics';
import { createPool } from './store/db';
import { migrate } from './store/migrate';
import { closeRedis, createRedis, isRedisReady, type Redis } from './cache/redis';
import { COMPLIANCE_LOADED_KEY, FREQUENCY_LOADED_KEY } from './cache/compliance-keys';
import { ScreenAndReserve } from './cache/screen-and-reserve';
import { loadComplianceCache } from './store/compliance-repo';
import { loadFrequencyCounts } from './store/frequency-repo';
import { RedisRefill, type RefillPart } from './cache/redis-refill';
import { CapLedger } from './cache/cap-ledger';
import { FundHolds } from './cache/fund-holds';
import { publishConfigChanged, SnapshotSource } from './exchange/snapshot-source';
import { Router } from './exchange/router';
import { CallFlow } from './exchange/call-flow';
import { RedisCallJournal } from './exchange/call-journal';
import { CallEventBus } from './exchange/call-events';
import { CallRecorder } from './store/call-recorder';
import { opsRoutes, type ReadinessCheck } from './api/ops-routes';
import { authenticate } from './api/auth';
import { PrincipalCache } from './api/principal-cache';
import { AccessInvalidation } from './api/access-invalidation';
import { auditRouteDocs, auditRoutes } from './api/audit-routes';
import { rateLimit } from './api/rate-limit';
import { guardOf } from './api/guard';
import { oneRouter } from './api/one-router';
import { authFailureLimit } from './api/auth-failure-limit';
import { errorHandler, loggablePath, maskDigits, requireJsonBody, whenBody } from './api/errors';
import { outboundRouteDocs, outboundRoutes } from './api/outbound-routes';
import { openApiRoutes, type RouteDoc } from './api/openapi';
import { moneyRouteDocs, moneyRoutes } from './api/money-routes';
import { opsJobsRouteDocs, opsJobsRoutes } from './api/ops-jobs-routes';
import { callsRouteDocs, callsRoutes } from './api/calls-routes';
import { callsExportRouteDocs, callsExportRoutes } from './api/calls-export-routes';
import { bidRouteDocs, bidRoutes } from './api/bid-routes';
import { dncRouteDocs, dncRoutes } from './api/dnc-routes';
import { listsRouteDocs, listsRoutes } from './api/lists-routes';
import { registryCopyAges } from './store/registry-copies';
import { privacyRouteDocs, privacyRoutes } from './api/privacy-routes';
import { configRouteDocs, configRoutes } from './api/config-routes';
import { reportRouteDocs, reportRoutes } from './api/reports-routes';
import { consentRouteDocs, consentRoutes } from './api/consent-routes';
import { blockRouteDocs, blockRoutes } from './api/block-routes';
import { pausedNumberRouteDocs, pausedNumberRoutes } from './api/paused-number-routes';
import { rtbSellerRouteDocs, rtbSellerRoutes } from './api/rtb-seller-routes';
import { SellerBidReservations } from './cache/seller-bid-reservations';
import { SellerPingCounts } from './cache/seller-ping-counts';
import { SellerPings } from './exchange/seller-pings';
import { dashboardRoutes } from './api/dashboard-routes';
import { attachLiveCalls } from './realtime/live-calls';
import { BidWriter } from './store/bid-writer';
import { OutboundDialer } from './exchange/outbound-dialer';
import { OutboundClearances } from './exchange/outbound-clearances';
import type { SwitchAdapter } from './switch/port';
import type { Bidder } from './exchange/bidders';
import { RtbPinger } from './exchange/rtb-pinger';
import { RepeatCallers } from './cache/repeat-callers';
import { rtbRouteDocs, rtbRoutes } from './api/rtb-routes';
import { billingQueue, enqueueForCommitted, fraudQueue, webhookQueue } from './jobs/queues';
import { BillingWorker } from './jobs/billing-worker';
import { BillingSweep, readBillingBacklog } from './jobs/billing-sweep';
import { FraudWorker } from './jobs/fraud-worker';
import { WebhookWorker } from './jobs/webhook-worker';
import { webhookRouteDocs, webhookRoutes } from './api/webhook-routes';
import { SecretBox } from './util/secret-box';
import { attestationTrust, billingSweepSettings, fraudRules, frequencyPolicy, webhookRetentionDays, webhookRetry, sellerPingLimits } from './config';
import { NodeHeartbeat, newIncarnation } from './cache/node-heartbeat';
import { LiveCallsRegistry } from './cache/live-calls-registry';
import { LeaseRenewal } from './cache/lease-renewal';
import { CallSweeper } from './exchange/call-sweeper';
import { loadCallForAdoption } from './store/adoption-repo';
import { UndoStack } from './util/undo-stack';

/** Every /v1 route, as documented at /openapi.json (each route module lists its own). */
export const apiRouteDocs: readonly RouteDoc[] = [
  ...callsRouteDocs, ...callsExportRouteDocs, ...outboundRouteDocs, ...bidRouteDocs, ...dncRouteDocs, ...listsRouteDocs, ...moneyRouteDocs, ...opsJobsRouteDocs,
  ...privacyRouteDocs, ...configRouteDocs, ...reportRouteDocs, ...consentRouteDocs, ...blockRouteDocs, ...auditRouteDocs,
  ...pausedNumberRouteDocs, ...webhookRouteDocs, ...rtbRouteDocs, ...rtbSellerRouteDocs,
];

/**
 * One exchange node: everything wired, nothing global. main.ts builds one from the environment; tests and
 * benchmarks build as many as they like, each with its own schema and Redis prefix.
 */
export interface ExchangeNode {
  config: Config;
  pool: Pool;
  redis: Redis;
  metrics: Metrics;
  snapshots: SnapshotSource;
  router: Router;
  flow: CallFlow;
  caps: CapLedger;
  /** buyers' funds and the holds of their calls in progress, in Redis (shared by every node) */
  fundHolds: FundHolds;
  /** live call events on this node (socket.io forwards them) */
  events: CallEventBus;
  recorder?: CallRecorder;
  switches: SwitchAdapter[];
  /** the HTTP port actually bound (HTTP_PORT=0 picks a free one) */
  httpPort: number;
  /** the HTTP app (tests walk its routes to check each one is documented and guarded) */
  api: express.Express;
  /** this incarnation's heartbeat (NODE_ID plus a boot-random suffix) */
  heartbeat: NodeHeartbeat;
  /** the live-call registry, as this incarnation writes it */
  registry: LiveCallsRegistry;
  /** takes over the calls of dead nodes on this node's switches */
  sweeper: CallSweeper;
  /**
   * Graceful stop: new calls refused, bridged calls left on the switch for adoption (see README, Reliability).
   * `keepHeartbeat` leaves the heartbeat to expire instead of deleting it, as a killed node's does (tests, drills).
   */
  stop(opts?: { keepHeartbeat?: boolean }): Promise<void>;
}

export type SwitchFactory = (node: Omit<ExchangeNode, 'switches' | 'httpPort' | 'api' | 'stop' | 'sweeper'>) => SwitchAdapter[];

export interface NodeOptions {
  switches?: SwitchFactory;
  /** real-time bidders consulted with the standing bids */
  bidders?: readonly Bidder[];
  /** the time source of call decisions (tests pin it to check calling hours) */
  clock?: () => Date;
  /** how often a connected node looks for what Redis must hold (REFILL_CHECK_MS; tests lengthen it to see the reconnect path alone) */
  redisRefillCheckMs?: number;
  /** how often the leases of this node's live calls are renewed (default a quarter of CONCURRENCY_LEASE_MS; tests shorten it) */
  leaseRenewEveryMs?: number;
}

/**
 * Starts a node. If a step fails (the HTTP port taken, Redis down after Postgres is up, a migration...), what the
 * steps before it opened is closed again, last first, and the error is thrown as "exchange node failed to start:
 * ..." (the original as its cause): a caller that handles it is left with nothing open, and its process can exit.
 */
export async function startExchangeNode(config: Config, logger: Logger, opts: NodeOptions = {}): Promise<ExchangeNode> {
  const started = new UndoStack();
  try {
    return await startNode(config, logger, opts, started);
  } catch (err) {
    await started.unwind((what, e) => logger.warn({ err: e.message, part: what }, 'closing a part of a node that failed to start failed'));
    throw new Error(`exchange node failed to start: ${(err as Error).message ?? String(err)}`, { cause: err });
  }
}

/** The start itself: each part that opens something pushes on `started` how to close it. */
async function startNode(config: Config, logger: Logger, opts: NodeOptions, started: UndoStack): Promise<ExchangeNode> {
  const makeSwitches = opts.switches ?? (() => []);
  const metrics = createMetrics();
  const pool = createPool({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA }, logger.child({ mod: 'postgres' }));
  started.push('postgres pool', () => pool.end());
  const redis = createRedis(config.REDIS_URL, config.REDIS_PREFIX, logger.child({ mod: 'redis' }), 'main', { autoPipeline: true });
  // The call journal batches its own writes and must not be auto-pipelined (see RedisCallJournal).
  const journalRedis = createRedis(config.REDIS_URL, config.REDIS_PREFIX, logger.child({ mod: 'redis' }), 'journal');
  const subscriber = createRedis(config.REDIS_URL, config.REDIS_PREFIX, logger.child({ mod: 'redis' }), 'config-subscriber');
  started.push('redis clients', () => Promise.all([closeRedis(subscriber), closeRedis(redis), closeRedis(journalRedis)]));

  if (config.MIGRATE_ON_START) await migrate(pool, logger.child({ mod: 'migrate' }));
  // Redis may have restarted empty (it is a cache here): load the compliance lists before taking calls.
  const compliance: RefillPart = {
    name: 'compliance lists',
    loaded: async () => (await redis.exists(COMPLIANCE_LOADED_KEY)) === 1,
    load: async () => {
      logger.info(await loadComplianceCache(pool, redis), 'compliance lists loaded into redis');
    },
  };
  if (!(await compliance.loaded())) await compliance.load();
  // The consumers' outbound call counts (frequency limits): rebuilt from the recorded calls when Redis lost them.
  const frequencyCounts: RefillPart = {
    name: 'frequency counts',
    loaded: async () => (await redis.exists(FREQUENCY_LOADED_KEY)) === 1,
    load: async () => {
      logger.info(await loadFrequencyCounts(pool, redis, frequencyPolicy(config), opts.clock?.() ?? new Date()), 'outbound call counts loaded into redis');
    },
  };
  if (!(await frequencyCounts.loaded())) await frequencyCounts.load();
  const fundHolds = new FundHolds(redis);
  const snapshots = new SnapshotSource(pool, subscriber, config.REDIS_PREFIX, logger.child({ mod: 'snapshot' }), { fundHolds });
  // The start-up load writes every buyer's funds figure (and the marker) before any call is taken.
  started.push('config snapshots', () => snapshots.stop());
  await snapshots.start();
  // Both again whenever Redis comes back without them: the funds figures through a snapshot load, at once, not at
  // the next timed reload up to a minute later (holds of calls in progress are lost with the data; see README).
  const refill = new RedisRefill(redis, [compliance, frequencyCounts, { name: 'buyer funds figures', loaded: () => fundHolds.loaded(), load: () => snapshots.refreshNow() }], logger.child({ mod: 'redis' }), opts.redisRefillCheckMs);
  refill.start();
  started.push('redis refill', () => refill.stop());
  // Keys as last read, shared by REST and socket.io; a revocation or a paused account heard here drops them at once.
  const principals = new PrincipalCache(pool);
  const access = new AccessInvalidation(subscriber, config.REDIS_PREFIX, logger.child({ mod: 'access' }));
  access.onChange((change) => principals.drop(change));
  started.push('access invalidation', () => access.stop());
  await access.start();

  const journal = new RedisCallJournal(journalRedis);
  // A bridged call's slot is given back in the journal's batch with the call's end entry (one round trip).
  const caps = new CapLedger(redis, journal);
  const rtb = new RtbPinger({
    callerHashSalt: config.RTB_CALLER_HASH_SALT,
    maxInFlightPerBuyer: config.RTB_MAX_IN_FLIGHT_PER_BUYER,
    breaker: { failures: config.RTB_BREAKER_FAILURES, coolOffMs: config.RTB_BREAKER_COOL_OFF_MS },
    lateGraceMs: config.RTB_LATE_GRACE_MS,
    allowPrivateAddresses: config.RTB_ALLOW_PRIVATE_ADDRESSES,
    metrics,
  });
  started.push('rtb pinger', () => rtb.close());
  const sellerBids = new SellerBidReservations(redis);
  const router = new Router({
    snapshots,
    gate: new ScreenAndReserve(redis),
    caps,
    bidders: opts.bidders,
    rtb,
    repeatCallers: new RepeatCallers(redis, config.RTB_REPEAT_WINDOW_DAYS),
    sellerBids,
    frequency: frequencyPolicy(config),
    attestationTrust: attestationTrust(config),
    registry: { maxAgeDays: config.DNC_REGISTRY_MAX_AGE_DAYS, required: config.DNC_REGISTRY_REQUIRED },
    logger: logger.child({ mod: 'router' }),
  });
  const events = new CallEventBus();
  const incarnation = newIncarnation(config.NODE_ID);
  const registry = new LiveCallsRegistry(redis, incarnation, logger.child({ mod: 'registry' }), journal);
  // A start that fails from here takes the incarnation out of the node set and its last beat out again (unless it
  // holds calls), once its heartbeat is stopped (undone after it, so no beat lands behind): else it stays listed
  // until another node's sweeper finds it dead and empty.
  started.push('live-call registry', () => registry.leave());
  const heartbeat = new NodeHeartbeat(redis, incarnation, { ttlMs: config.NODE_HEARTBEAT_TTL_MS }, logger.child({ mod: 'heartbeat' }));
  started.push('heartbeat', () => heartbeat.stop());
  await heartbeat.start();
  await registry.join();
  const clearances = new OutboundClearances();
  const knownCall = (callId: string) => loadCallForAdoption(pool, callId);
  const flow = new CallFlow({ router, journal, caps, logger: logger.child({ mod: 'call' }), metrics, events, clearances, clock: opts.clock, registry, knownCall, fundHolds });
  // A call longer than its slot's lease keeps the slot (and its buyer's hold): renewed while its flow runs here.
  const leaseRenewal = new LeaseRenewal(registry, caps, logger.child({ mod: 'leases' }), { everyMs: opts.leaseRenewEveryMs, clock: opts.clock, isRunning: (callId) => flow.isRunning(callId) });
  leaseRenewal.start();
  started.push('lease renewal', () => leaseRenewal.stop());

  const queueSettings = { redisUrl: config.REDIS_URL, redisPrefix: config.REDIS_PREFIX };
  let recorder: CallRecorder | undefined;
  // The recorder blocks on stream reads, so it gets a connection of its own.
  const recorderRedis = config.RECORDER_ENABLED ? redis.duplicate({ enableAutoPipelining: false, connectionName: 'recorder' }) : undefined;
  const queues = recorderRedis ? { billing: billingQueue(queueSettings), fraud: fraudQueue(queueSettings), webhooks: webhookQueue(queueSettings) } : undefined;
  if (recorderRedis) started.push('recorder connection', () => closeRedis(recorderRedis));
  if (queues) started.push('queues', () => Promise.all([queues.billing.close(), queues.fraud.close(), queues.webhooks.close()]));
  if (recorderRedis && queues) {
    recorder = new CallRecorder(pool, recorderRedis, logger.child({ mod: 'recorder' }), {
      consumer: config.NODE_ID,
      onWritten: (n) => metrics.recorderWrites.inc(n),
      onCommitted: (entries) => enqueueForCommitted(queues, entries),
    });
    const recording = recorder;
    started.push('recorder', () => recording.stop());
    await recorder.start();
  }
  const billingWorker = config.BILLING_WORKER_ENABLED
    ? new BillingWorker(pool, redis, logger.child({ mod: 'billing' }), { ...queueSettings, concurrency: config.BILLING_CONCURRENCY })
    : undefined;
  billingWorker?.start();
  if (billingWorker) started.push('billing worker', () => billingWorker.stop());
  // Ended calls whose billing job Redis lost are enqueued again by a sweep where the billing worker runs.
  const sweepSettings = billingWorker ? billingSweepSettings(config) : undefined;
  const sweepQueue = sweepSettings ? (queues?.billing ?? billingQueue(queueSettings)) : undefined;
  const billingSweep = sweepSettings && sweepQueue
    ? new BillingSweep(pool, redis, sweepQueue, logger.child({ mod: 'billing-sweep' }), { ...sweepSettings, onSwept: (n) => metrics.billingSwept.inc(n) })
    : undefined;
  if (sweepQueue && sweepQueue !== queues?.billing) started.push('billing sweep queue', () => sweepQueue.close());
  billingSweep?.start();
  if (billingSweep) started.push('billing sweep', () => billingSweep.stop());
  metrics.onBillingBacklog(() => readBillingBacklog(redis));
  const fraudWorker = config.FRAUD_WORKER_ENABLED
    ? new FraudWorker(pool, redis, logger.child({ mod: 'fraud' }), { ...queueSettings, rules: fraudRules(config) })
    : undefined;
  fraudWorker?.start();
  if (fraudWorker) started.push('fraud worker', () => fraudWorker.stop());
  const secretBox = SecretBox.fromKey(config.WEBHOOK_SECRET_KEY);
  // Where webhooks are sent, old deliveries are deleted too (one process at a time).
  const retentionDays = webhookRetentionDays(config);
  const webhookWorker = config.WEBHOOK_WORKER_ENABLED
    ? new WebhookWorker(pool, logger.child({ mod: 'webhooks' }), {
        ...queueSettings, retry: webhookRetry(config), timeoutMs: config.WEBHOOK_TIMEOUT_MS, allowPrivate: config.WEBHOOK_ALLOW_PRIVATE_ADDRESSES, concurrency: config.WEBHOOK_CONCURRENCY, box: secretBox,
        retention: retentionDays ? { redis, days: retentionDays, onPruned: (n) => metrics.webhookDeliveriesPruned.inc(n) } : undefined,
      })
    : undefined;
  webhookWorker?.start();
  if (webhookWorker) started.push('webhook worker', () => webhookWorker.stop());

  const core = { config, pool, redis, metrics, snapshots, router, flow, caps, fundHolds, recorder, events, heartbeat, registry };
  const switches = makeSwitches(core);
  for (const sw of switches) {
    started.push(`switch ${sw.name}`, () => sw.stop());
    await sw.start(flow.handle);
  }
  const sweeper = new CallSweeper({ registry, flow, switches, knownCall, logger: logger.child({ mod: 'sweeper' }), intervalMs: config.SWEEP_INTERVAL_MS });
  sweeper.start();
  started.push('call sweeper', () => sweeper.stop());
  const sellerPingCounts = new SellerPingCounts(redis);
  const sellerPings = new SellerPings({
    router, snapshots, reservations: sellerBids, counts: sellerPingCounts, caps, pool,
    publishConfigChanged: (what) => publishConfigChanged(redis, config.REDIS_PREFIX, what), limits: sellerPingLimits(config), bidTtlSec: config.RTB_SELLER_BID_TTL_SEC, sipHost: config.RTB_SELLER_SIP_HOST,
    metrics, logger: logger.child({ mod: 'rtb-seller' }), clock: opts.clock,
  });
  // Expired, unclaimed sellers' bids give their capacity back (slots and holds also lapse with their leases).
  const sellerBidSweep = setInterval(() => {
    sellerPings.sweep().catch((err: Error) => logger.warn({ err: err.message }, 'sweep of expired sellers\' bids failed'));
  }, config.RTB_SELLER_SWEEP_MS).unref();
  started.push("sellers' bid sweep", () => clearInterval(sellerBidSweep));
  const dialer = new OutboundDialer({ router, snapshots, journal, switches: () => switches, clearances, logger: logger.child({ mod: 'dialer' }), clock: opts.clock });

  // Switch connection state in the metrics even when nobody polls /ready (a Prometheus scrape alone sees it).
  const switchGauges = () => {
    for (const sw of switches) metrics.dependencyUp.set({ dependency: sw.name }, sw.isConnected() ? 1 : 0);
  };
  switchGauges();
  const switchGaugeTimer = switches.length > 0 ? setInterval(switchGauges, 1_000).unref() : undefined;
  started.push('switch gauges', () => clearInterval(switchGaugeTimer));
  const checks: ReadinessCheck[] = [
    { name: 'postgres', check: async () => (await pool.query('SELECT 1')).rowCount === 1 },
    { name: 'redis', check: () => isRedisReady(redis) },
    ...switches.map((sw) => ({ name: sw.name, check: () => sw.isConnected() })),
  ];
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // API answers change call to call; hashing every body for an ETag cost more than it saved
  // The registry copies' ages: a detail of /ready (a stale copy refuses outbound calls, not the node; see README) and a gauge.
  const registryAges = () => registryCopyAges(redis, Date.now(), config.DNC_REGISTRY_MAX_AGE_DAYS);
  metrics.onRegistryAges(registryAges);
  // The key first: a request without one gets 401 whatever its body, and no body is parsed for it. An address
  // that keeps failing is refused before its key is looked up.
  const authFailures = authFailureLimit(redis, config.API_AUTH_FAILURES_PER_MINUTE, logger.child({ mod: 'api' }), Date.now, { subscriber, prefix: config.REDIS_PREFIX });
  await authFailures.counter.subscribed;
  // One layer for the six steps (app/api/guard.ts): express matches and trims the mount path once, not six times.
  const guard = guardOf([authFailures.gate, authenticate(principals), authFailures.count, rateLimit(redis, config.API_RATE_LIMIT_PER_SECOND, logger.child({ mod: 'api' })), requireJsonBody(apiRouteDocs.filter((r) => r.textBody).map((r) => r.path)), whenBody(express.json({ limit: '1mb' }))]);
  app.use('/v1', guard);
  app.use('/rtb', guard); // sellers' pings: the same keys, limits and body rules as /v1
  // The busiest routes first: express tries every route before the one that answers, for every request.
  // No two modules answer the same method and path, so the order changes nothing else (ops, dashboard and the
  // API description, outside /v1 and /rtb, come after the API's routers: an API request no longer walks them).
  // One per node: REST and socket.io share its group commit.
  const bidWriter = new BidWriter(pool, redis, config.REDIS_PREFIX, { applyLocally: (bids) => snapshots.applyCommittedBids(bids), logger: logger.child({ mod: 'bids' }) });
  // One router for the API's modules (app/api/one-router.ts): a request is matched in one dispatch, not one per module.
  app.use(oneRouter([
    callsExportRoutes(pool), // before /v1/calls/:id, which would take export.csv for an id
    callsRoutes(pool),
    bidRoutes(bidWriter),
    rtbSellerRoutes(sellerPings, sellerPingCounts, pool, sellerPingLimits(config), opts.clock),
    outboundRoutes(dialer, snapshots),
    moneyRoutes(pool, redis, config.REDIS_PREFIX),
    opsJobsRoutes(queues, () => readBillingBacklog(redis)),
    dncRoutes(pool, redis, logger.child({ mod: 'dnc' })),
    listsRoutes(pool, redis, logger.child({ mod: 'lists' }), { maxAgeDays: config.DNC_REGISTRY_MAX_AGE_DAYS }),
    privacyRoutes(pool, redis),
    configRoutes(pool, redis, config.REDIS_PREFIX, { rtbAllowPrivateAddresses: config.RTB_ALLOW_PRIVATE_ADDRESSES }),
    rtbRoutes(pool, rtb),
    reportRoutes(pool),
    consentRoutes(pool, redis, { validityDays: config.CONSENT_VALIDITY_DAYS, logger: logger.child({ mod: 'consent' }) }),
    blockRoutes(pool, redis),
    pausedNumberRoutes(pool, redis, config.REDIS_PREFIX, logger.child({ mod: 'fraud-api' })),
    auditRoutes(pool),
    webhookRoutes({ pool, box: secretBox, retry: webhookRetry(config), queue: queues?.webhooks }),
  ]));
  app.use(opsRoutes(checks, metrics.registry, (name, up) => metrics.dependencyUp.set({ dependency: name }, up ? 1 : 0), async () => ({ dncRegistry: await registryAges() })));
  app.use(dashboardRoutes(config.DASHBOARD_DIR, logger.child({ mod: 'dashboard' })));
  app.use(openApiRoutes(apiRouteDocs, { title: 'callx pay-per-call exchange', version: '0.1.0' }));
  app.use((_req, res) => res.status(404).json({ error: { code: 'not_found', message: 'no such route' } }));
  const apiLog = logger.child({ mod: 'api' });
  app.use(errorHandler({
    // The route's pattern, not the path, and digits masked: paths and messages can carry phone numbers.
    failed: (err, req) => apiLog.error({ err: maskDigits((err as Error).message ?? String(err)), method: req.method, path: loggablePath(req) }, 'API request failed'),
    refused: (err, req) => apiLog.warn({ code: err.code, status: err.status, method: req.method, path: loggablePath(req) }, 'API request refused'),
  }));
  const server = http.createServer(app);
  const live = attachLiveCalls(server, { pool, principals, access, bids: bidWriter, events, redisUrl: config.REDIS_URL, redisPrefix: config.REDIS_PREFIX, logger: logger.child({ mod: 'live' }), authFailures: authFailures.counter });
  started.push('live calls', () => live.close());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: Error) => reject(new Error(`cannot listen on HTTP ${config.HTTP_HOST}:${config.HTTP_PORT}: ${err.message}`, { cause: err })));
    server.listen(config.HTTP_PORT, config.HTTP_HOST, () => resolve());
  });
  const httpPort = (server.address() as AddressInfo).port;
  logger.info({ httpPort, switches: switches.map((s) => s.name), incarnation }, 'exchange node started');

  let stopping: Promise<void> | undefined;
  const stop = (stopOpts: { keepHeartbeat?: boolean } = {}): Promise<void> =>
    (stopping ??= (async () => {
      // Stop taking calls: the switches refuse new ones and drain those in progress for a bounded time, then leave
      // bridged calls on the switch and never report their end. The flows of those are let go unrecorded; their
      // registry entries stay, and once the heartbeat is gone (deleted below) another node, or this one
      // restarted, adopts them and records their real end.
      clearInterval(switchGaugeTimer);
      clearInterval(sellerBidSweep);
      await sweeper.stop();
      refill.stop();
      for (const sw of switches) await sw.stop().catch((err: Error) => logger.warn({ err: err.message, switch: sw.name }, 'switch stop failed'));
      const left = flow.letGo();
      if (left > 0) logger.info({ calls: left }, 'calls left on the switch for another node (or this one restarted) to adopt');
      await flow.settle();
      await leaseRenewal.stop();
      await live.close(); // closes the HTTP server too
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await bidWriter.drain(); // batches already taken are written and answered before the pool closes
      await recorder?.stop();
      if (recorderRedis) await closeRedis(recorderRedis);
      await billingSweep?.stop();
      await billingWorker?.stop();
      await fraudWorker?.stop();
      await webhookWorker?.stop();
      await queues?.billing.close();
      if (sweepQueue && sweepQueue !== queues?.billing) await sweepQueue.close();
      await queues?.fraud.close();
      await queues?.webhooks.close();
      access.stop();
      await snapshots.stop();
      rtb.close();
      await heartbeat.stop({ keepKey: stopOpts.keepHeartbeat });
      await Promise.all([closeRedis(subscriber), closeRedis(redis), closeRedis(journalRedis)]);
      await pool.end();
    })());

  return { ...core, switches, httpPort, api: app, sweeper, stop };
}
