import os from 'node:os';
import { z } from 'zod';
import { DEFAULT_FRAUD_RULES, type FraudRules } from './domain/fraud';
import { DEFAULT_FREQUENCY_POLICY, type FrequencyPolicy } from './domain/frequency-limits';
import { DEFAULT_CONSENT_VALIDITY_DAYS } from './domain/consent';
import { parseAttestationTrust, type AttestationTrust } from './domain/attestation';
import type { PingLimits } from './cache/seller-ping-counts';

/**
 * Every setting comes from an environment variable, validated here; README.md lists them all.
 * A bad value stops start-up with a message naming the variable.
 */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const port = z.coerce.number().int().min(1).max(65535);
/** a port to listen on: 0 asks the OS for a free one (tests) */
const listenPort = z.coerce.number().int().min(0).max(65535);
const switchList = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .pipe(z.array(z.enum(['freeswitch', 'asterisk'])));

/** Carrier trunks whose attestation headers are believed: IP addresses and trunk:<name> entries. */
const trustedCarriers = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .superRefine((list, ctx) => {
    const r = parseAttestationTrust(list);
    if (!r.ok) ctx.addIssue({ code: 'custom', message: `not an IP address or trunk:<name>: ${r.bad.join(', ')}` });
  });

const EnvSchema = z.object({
  ATTESTATION_TRUSTED_CARRIERS: trustedCarriers.default([]),
  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/postgres'),
  DATABASE_SCHEMA: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain SQL identifier').optional(),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z.string().min(1).default('callx:'),
  HTTP_HOST: z.string().default('0.0.0.0'),
  HTTP_PORT: listenPort.default(8080),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODE_ID: z.string().min(1).default(`${os.hostname()}-${process.pid}`),
  // A node's heartbeat lives this long without a refresh (refreshed every third of it); once it is gone, other
  // nodes adopt or close the node's calls and give back its concurrency slots.
  NODE_HEARTBEAT_TTL_MS: z.coerce.number().int().min(300).max(120_000).default(10_000),
  // How often a node looks for calls of dead nodes on its switches (and once at start).
  SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  MIGRATE_ON_START: bool.default(true),
  RECORDER_ENABLED: bool.default(true),
  BILLING_WORKER_ENABLED: bool.default(true),
  BILLING_CONCURRENCY: z.coerce.number().int().min(1).max(5000).default(200),
  // The billing sweep (README "Billing and fraud"), run where the billing worker runs: how often it looks for ended
  // calls whose billing job was lost (0: never), how long after its end a call is left to its own job, and how old
  // a call may be and still be swept.
  BILLING_SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
  BILLING_SWEEP_GRACE_MS: z.coerce.number().int().min(1000).max(86_400_000).default(120_000),
  BILLING_SWEEP_MAX_AGE_DAYS: z.coerce.number().int().min(1).max(365).default(7),
  FRAUD_WORKER_ENABLED: bool.default(true),
  // Signed webhooks (README "Webhooks"): the worker that fans call events out and sends them, how many attempts a
  // delivery gets (then it is dead), the first retry's delay (doubling after), and how long a receiver may take.
  WEBHOOK_WORKER_ENABLED: bool.default(true),
  WEBHOOK_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(10),
  WEBHOOK_BACKOFF_MS: z.coerce.number().int().min(1).max(3_600_000).default(10_000),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(20),
  // Deliver to loopback, private and link-local addresses too (off: customers' URLs must not reach our own network).
  WEBHOOK_ALLOW_PRIVATE_ADDRESSES: bool.default(false),
  // Seals the accounts' webhook signing secrets at rest (AES-256-GCM): 32 bytes, 64 hex digits or base64.
  // Deliveries delivered or dead are deleted once this many days old (0: kept for ever), by the webhook worker.
  WEBHOOK_DELIVERY_RETENTION_DAYS: z.coerce.number().int().min(0).max(3650).default(30),
  WEBHOOK_SECRET_KEY: z.string().refine((k) => /^[0-9a-fA-F]{64}$/.test(k) || Buffer.from(k, 'base64').length === 32, 'must be 32 bytes: 64 hex digits or base64').optional(),
  // Per-consumer frequency limit on outbound calls, platform-wide, on top of the state rules (0: none but theirs).
  OUTBOUND_FREQUENCY_LIMIT: z.coerce.number().int().min(0).max(1000).default(DEFAULT_FREQUENCY_POLICY.platformDefault.limit),
  OUTBOUND_FREQUENCY_WINDOW_HOURS: z.coerce.number().int().min(1).max(24 * 90).default(DEFAULT_FREQUENCY_POLICY.platformDefault.windowHours),
  // What one "subject" is for counting: all of a seller's campaigns, or each campaign apart.
  OUTBOUND_FREQUENCY_SUBJECT: z.enum(['seller', 'campaign']).default(DEFAULT_FREQUENCY_POLICY.subject),
  // How long a consent record is valid when it does not say (days from consentedAt).
  CONSENT_VALIDITY_DAYS: z.coerce.number().int().min(1).max(3650).default(DEFAULT_CONSENT_VALIDITY_DAYS),
  FRAUD_BLOCK_SCORE: z.coerce.number().int().min(1).max(100).default(DEFAULT_FRAUD_RULES.blockScore),
  FRAUD_VELOCITY_PER_MINUTE: z.coerce.number().int().min(1).default(DEFAULT_FRAUD_RULES.velocityPerMinute),
  FRAUD_VELOCITY_PER_HOUR: z.coerce.number().int().min(1).default(DEFAULT_FRAUD_RULES.velocityPerHour),
  FRAUD_VELOCITY_PER_DAY: z.coerce.number().int().min(1).default(DEFAULT_FRAUD_RULES.velocityPerDay),
  FRAUD_SHORT_CALL_SEC: z.coerce.number().int().min(0).default(DEFAULT_FRAUD_RULES.shortCallSec),
  FRAUD_REPEAT_SELLERS: z.coerce.number().int().min(2).default(DEFAULT_FRAUD_RULES.repeatSellers),
  FRAUD_SELLER_SHORT_SHARE: z.coerce.number().min(0).max(1).default(DEFAULT_FRAUD_RULES.sellerShortShare),
  FRAUD_SELLER_MIN_CALLS: z.coerce.number().int().min(1).default(DEFAULT_FRAUD_RULES.sellerMinCalls),
  SWITCHES: switchList.default([]),
  // requests per second per API key, across all nodes; 0 turns the limit off
  API_RATE_LIMIT_PER_SECOND: z.coerce.number().int().min(0).default(100),
  // failed authentications (401) per source address per minute, across all nodes, before it gets 429; 0: no limit
  API_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(0).default(30),
  DASHBOARD_DIR: z.string().min(1).default('dist/dashboard'),
  // Sellers' pings (POST /rtb/ping): how long a bid and the buyer capacity it reserves last.
  RTB_SELLER_BID_TTL_SEC: z.coerce.number().int().min(1).max(3600).default(60),
  // Where sellers send calls over SIP (host[:port] of the carrier-facing SBC or switch): bids then carry a sipAddress
  // (sip:<tracking number>@host) beside the phone number. Unset: phone numbers only.
  RTB_SELLER_SIP_HOST: z.string().regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, 'must be host or host:port').optional(),
  // Pings per seller per UTC minute, hour and day, across all nodes, before rate_limited (0: no limit for that
  // window); an admin may set other figures per seller (PATCH /v1/accounts/:id/rtb-ping-limits).
  RTB_SELLER_PINGS_PER_MINUTE: z.coerce.number().int().min(0).default(60),
  RTB_SELLER_PINGS_PER_HOUR: z.coerce.number().int().min(0).default(1000),
  RTB_SELLER_PINGS_PER_DAY: z.coerce.number().int().min(0).default(10000),
  // How often a node gives back the capacity of sellers' bids that expired unclaimed.
  RTB_SELLER_SWEEP_MS: z.coerce.number().int().min(100).max(60_000).default(1000),
  // National DNC registry copies (README "National DNC registry copies"): an outbound call screened against a copy
  // older than this many days is refused (dnc_registry_stale); with REQUIRED, so is one whose registry has no copy.
  DNC_REGISTRY_MAX_AGE_DAYS: z.coerce.number().int().min(1).max(31).default(31),
  DNC_REGISTRY_REQUIRED: bool.default(true),

  FS_OUTBOUND_HOST: z.string().default('0.0.0.0'),
  FS_OUTBOUND_PORT: listenPort.default(8084),
  FS_ESL_HOST: z.string().default('127.0.0.1'),
  FS_ESL_PORT: port.default(8021),
  FS_ESL_PASSWORD: z.string().min(1).default('ChangeMe-ESL-Password'),
  FS_SOFIA_PROFILE: z.string().min(1).default('callx_buyers'),
  FS_BUYER_GATEWAY: z.string().min(1).default('buyers'),
  FS_CONSUMER_GATEWAY: z.string().min(1).default('consumers'),
  FS_ORIGINATE_SOCKET_ADDRESS: z.string().regex(/^[^\s:]+:\d+$|^\[[0-9a-fA-F:]+\]:\d+$/, 'must be host:port').optional(),

  PROMPT_NO_BUYER: z.string().min(1).default('ivr/ivr-call_cannot_be_completed_as_dialed.wav'),
  PROMPT_NOT_IN_SERVICE: z.string().min(1).default('ivr/ivr-call_cannot_be_completed_as_dialed.wav'),
  PROMPT_REJECTED: z.string().min(1).default('ivr/ivr-call_cannot_be_completed_as_dialed.wav'),
  PROMPT_ERROR: z.string().min(1).default('ivr/ivr-call_cannot_be_completed_as_dialed.wav'),

  ARI_URL: z.string().url().default('http://127.0.0.1:8088'),
  ARI_USERNAME: z.string().min(1).default('callx'),
  ARI_PASSWORD: z.string().min(1).default('ChangeMe-ARI-Password'),
  ARI_APP: z.string().min(1).default('callx'),
  ARI_BUYER_TRUNK: z.string().min(1).default('buyers'),
  ARI_CONSUMER_TRUNK: z.string().min(1).default('consumers'),
  // Real-time bidding (issue 15): the salt of the hashed caller number sent to RTB buyers (unset: never sent),
  // pings per buyer account in flight at once, the circuit breaker, and how long a late answer is still read.
  RTB_CALLER_HASH_SALT: z.string().default(''),
  RTB_MAX_IN_FLIGHT_PER_BUYER: z.coerce.number().int().min(1).max(10_000).default(64),
  RTB_BREAKER_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  RTB_BREAKER_COOL_OFF_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000),
  RTB_LATE_GRACE_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  RTB_ALLOW_PRIVATE_ADDRESSES: bool.default(false),
  RTB_REPEAT_WINDOW_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  // ARI REST client: http (ours, over node:http) or ari-client (the npm library)
  ARI_REST_CLIENT: z.enum(['http', 'ari-client']).default('http'),
  // Most empty bridges kept for the next call (0: a bridge per call, destroyed at its end); see bridge-pool.ts
  ARI_BRIDGE_POOL: z.coerce.number().int().min(0).max(10_000).default(200),
  // Sound names of Asterisk's core sound pack, without extension.
  ARI_PROMPT_NO_BUYER: z.string().min(1).default('tt-allbusy'),
  ARI_PROMPT_NOT_IN_SERVICE: z.string().min(1).default('ss-noservice'),
  ARI_PROMPT_REJECTED: z.string().min(1).default('ss-noservice'),
  // Sic: the stock pack spells it 'occured' (asterisk-core-sounds-en); 'an-error-has-occurred' is not in it.
  ARI_PROMPT_ERROR: z.string().min(1).default('an-error-has-occured'),
});

export type Config = z.infer<typeof EnvSchema>;

/** The fraud rules' thresholds from the environment. */
export function fraudRules(config: Config): FraudRules {
  return {
    blockScore: config.FRAUD_BLOCK_SCORE,
    velocityPerMinute: config.FRAUD_VELOCITY_PER_MINUTE,
    velocityPerHour: config.FRAUD_VELOCITY_PER_HOUR,
    velocityPerDay: config.FRAUD_VELOCITY_PER_DAY,
    shortCallSec: config.FRAUD_SHORT_CALL_SEC,
    repeatSellers: config.FRAUD_REPEAT_SELLERS,
    sellerShortShare: config.FRAUD_SELLER_SHORT_SHARE,
    sellerMinCalls: config.FRAUD_SELLER_MIN_CALLS,
  };
}

/** The billing sweep's settings; undefined when it is off (BILLING_SWEEP_INTERVAL_MS=0). */
export function billingSweepSettings(config: Config): { intervalMs: number; graceMs: number; maxAgeDays: number } | undefined {
  if (config.BILLING_SWEEP_INTERVAL_MS === 0) return undefined;
  return { intervalMs: config.BILLING_SWEEP_INTERVAL_MS, graceMs: config.BILLING_SWEEP_GRACE_MS, maxAgeDays: config.BILLING_SWEEP_MAX_AGE_DAYS };
}

/** The outbound frequency policy from the environment. */
export function frequencyPolicy(config: Config): FrequencyPolicy {
  return { platformDefault: { limit: config.OUTBOUND_FREQUENCY_LIMIT, windowHours: config.OUTBOUND_FREQUENCY_WINDOW_HOURS }, subject: config.OUTBOUND_FREQUENCY_SUBJECT };
}

/** How webhook deliveries are retried. */
export function webhookRetry(config: Config): { attempts: number; backoffMs: number } {
  return { attempts: config.WEBHOOK_ATTEMPTS, backoffMs: config.WEBHOOK_BACKOFF_MS };
}

/** How long webhook deliveries are kept once done with; undefined when for ever (WEBHOOK_DELIVERY_RETENTION_DAYS=0). */
export function webhookRetentionDays(config: Config): number | undefined {
  return config.WEBHOOK_DELIVERY_RETENTION_DAYS === 0 ? undefined : config.WEBHOOK_DELIVERY_RETENTION_DAYS;
}

/** The deployment's default ping limits per seller (each seller's overrides go on top). */
export function sellerPingLimits(config: Config): PingLimits {
  return { perMinute: config.RTB_SELLER_PINGS_PER_MINUTE, perHour: config.RTB_SELLER_PINGS_PER_HOUR, perDay: config.RTB_SELLER_PINGS_PER_DAY };
}

/** Whose X-Attestation headers count (ATTESTATION_TRUSTED_CARRIERS). */
export function attestationTrust(config: Config): AttestationTrust {
  const r = parseAttestationTrust(config.ATTESTATION_TRUSTED_CARRIERS);
  return r.ok ? r.trust : { addresses: [], trunks: [] };
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset, as a shell `FOO=` usually means.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
