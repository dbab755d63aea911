import client from 'prom-client';

/**
 * The exchange's Prometheus metrics, on a registry of their own (tests build several apps in one process).
 */
export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  let registryAges: RegistryAgesSource | undefined;
  const registryAge = new client.Gauge({
    name: 'callx_dnc_registry_age_days',
    help: 'Age in days of the national DNC registry copy screening reads, by registry (us, ca); absent when none is loaded',
    labelNames: ['registry'] as const,
    registers: [registry],
    async collect() {
      if (!registryAges) return;
      this.reset();
      const ages = await registryAges().catch(() => undefined);
      for (const [kind, age] of Object.entries(ages ?? {})) if (age) this.set({ registry: kind }, age.ageDays);
    },
  });
  let billingBacklog: BillingBacklogSource | undefined;
  const unbilledCalls = new client.Gauge({
    name: 'callx_billing_unbilled_calls',
    help: 'Ended calls past the billing sweep\'s grace age with no billing row, as the last sweep (any process\'s) left them; absent before the first sweep',
    registers: [registry],
    async collect() {
      this.reset();
      const b = billingBacklog ? await billingBacklog().catch(() => undefined) : undefined;
      if (b?.sweptAt) this.set(b.unbilled);
    },
  });
  let activeCallsSource: (() => number) | undefined;
  const activeCalls = new client.Gauge({
    name: 'callx_active_calls',
    help: 'Calls in progress on this node',
    registers: [registry],
    collect() {
      if (activeCallsSource) this.set(activeCallsSource());
    },
  });
  return {
    /** Where the unbilled-calls gauge reads at each scrape (the node's Redis, written by the billing sweep). */
    onBillingBacklog(source: BillingBacklogSource): void {
      billingBacklog = source;
    },
    unbilledCalls,
    billingSwept: new client.Counter({ name: 'callx_billing_swept_calls_total', help: 'Ended calls whose billing job was lost (Redis lost its data, a queue was emptied) and that this process\'s billing sweep enqueued again', registers: [registry] }),
    webhookDeliveriesPruned: new client.Counter({ name: 'callx_webhook_deliveries_pruned_total', help: 'Webhook deliveries (delivered or dead) deleted by this process once older than WEBHOOK_DELIVERY_RETENTION_DAYS', registers: [registry] }),
    /** Where the registry age gauge reads at each scrape (the node's Redis). */
    onRegistryAges(source: RegistryAgesSource): void {
      registryAges = source;
    },
    registryAge,
    registry,
    callsTotal: new client.Counter({ name: 'callx_calls_total', help: 'Calls handled, by direction and outcome', labelNames: ['direction', 'outcome', 'reason'] as const, registers: [registry] }),
    decisionSeconds: new client.Histogram({ name: 'callx_routing_decision_seconds', help: 'Time to decide a call (screening, discovery, auction)', buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05], registers: [registry] }),
    bridgeAttempts: new client.Counter({ name: 'callx_bridge_attempts_total', help: 'Bridge attempts by status', labelNames: ['status'] as const, registers: [registry] }),
    activeCalls,
    /** Where the active-calls gauge reads at each scrape (the call flow's count): nothing per call touches prom-client. */
    onActiveCalls(source: () => number): void {
      activeCallsSource = source;
    },
    journalBacklog: new client.Gauge({ name: 'callx_journal_pending', help: 'Call journal entries not yet written to Postgres', registers: [registry] }),
    recorderWrites: new client.Counter({ name: 'callx_recorder_entries_total', help: 'Call journal entries written to Postgres', registers: [registry] }),
    rtbPings: new client.Counter({ name: 'callx_rtb_pings_total', help: 'RTB pings by buyer account and outcome (bid, no_bid, invalid, error, late, timeout, skipped_concurrency, skipped_breaker)', labelNames: ['buyer', 'outcome'] as const, registers: [registry] }),
    rtbResponseSeconds: new client.Histogram({ name: 'callx_rtb_response_seconds', help: 'Time from an RTB ping to its answer (late answers included), by buyer account', labelNames: ['buyer'] as const, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1], registers: [registry] }),
    sellerPings: new client.Counter({ name: 'callx_rtb_seller_pings_total', help: "Sellers' pings (POST /rtb/ping) by outcome: bid, repeat (the same bid again), informational (no caller id) or the reject code", labelNames: ['outcome'] as const, registers: [registry] }),
    sellerBidsExpired: new client.Counter({ name: 'callx_rtb_seller_bids_expired_total', help: "Sellers' bids whose reservation expired unclaimed and was given back by this node's sweep", registers: [registry] }),
    dependencyUp: new client.Gauge({ name: 'callx_dependency_up', help: '1 when a dependency (postgres, redis, a switch) is connected', labelNames: ['dependency'] as const, registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

type BillingBacklogSource = () => Promise<{ unbilled: number; sweptAt: Date | null }>;

type RegistryAgesSource = () => Promise<Record<string, { ageDays: number } | null>>;
