/**
 * Webhook signatures: `X-Callx-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, keyed with the
 * receiving account's secret. The timestamp is inside the MAC, so a receiver that refuses old timestamps refuses
 * replays of a captured request; the event id (X-Callx-Event-Id, also in the body) lets it drop a delivery it has
 * already processed (retries and redeliveries carry the same id). Pure: the time is passed in.
 *
 * `verifyWebhookSignature` is what a receiver runs (README "Webhooks" has the same recipe in plain Node); the tests
 * use it as their receivers would, on the raw body as received.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-callx-signature';
export const EVENT_ID_HEADER = 'x-callx-event-id';
export const EVENT_TYPE_HEADER = 'x-callx-event-type';
/** A receiver's default tolerance between the signature's time and its own clock. */
export const DEFAULT_TOLERANCE_SEC = 300;

export function signatureOf(secret: string, timestampSec: number, rawBody: string): string {
  return createHmac('sha256', secret).update(`${timestampSec}.${rawBody}`).digest('hex');
}

/** The header value for a body signed at `timestampSec`: one v1 per secret (two while a rotation keeps the old one). */
export function signatureHeader(secrets: string | readonly string[], timestampSec: number, rawBody: string): string {
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  return [`t=${timestampSec}`, ...list.map((s) => `v1=${signatureOf(s, timestampSec, rawBody)}`)].join(',');
}

export type VerifyResult = { ok: true; timestampSec: number } | { ok: false; reason: 'malformed' | 'too_old' | 'in_future' | 'bad_signature' };

/**
 * Checks a signature header against the raw body (the bytes received, before any JSON parsing) and the secret.
 * Several v1 values are accepted (any may match), so a sender may sign with two secrets while one is rotated.
 */
export function verifyWebhookSignature(
  rawBody: string,
  header: string | undefined,
  secret: string,
  opts: { nowSec: number; toleranceSec?: number },
): VerifyResult {
  if (!header) return { ok: false, reason: 'malformed' };
  let t: number | undefined;
  const sigs: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return { ok: false, reason: 'malformed' };
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 't') t = /^\d{1,12}$/.test(v) ? Number(v) : Number.NaN;
    else if (k === 'v1' && /^[0-9a-f]{64}$/.test(v)) sigs.push(v);
  }
  if (t === undefined || Number.isNaN(t) || sigs.length === 0) return { ok: false, reason: 'malformed' };
  const tolerance = opts.toleranceSec ?? DEFAULT_TOLERANCE_SEC;
  if (opts.nowSec - t > tolerance) return { ok: false, reason: 'too_old' };
  if (t - opts.nowSec > tolerance) return { ok: false, reason: 'in_future' };
  const expected = Buffer.from(signatureOf(secret, t, rawBody), 'hex');
  const match = sigs.some((s) => timingSafeEqual(Buffer.from(s, 'hex'), expected));
  return match ? { ok: true, timestampSec: t } : { ok: false, reason: 'bad_signature' };
}

/**
 * The event id of a call's event: the same for every receiver and every retry of it, so a receiver can use it as
 * its idempotency key. Derived, not drawn, so a repeated fan-out (a retried job, a journal entry written twice)
 * makes the same event, not a second one.
 */
export function webhookEventId(callId: string, eventType: string): string {
  return `evt_${createHash('sha256').update(`${callId}|${eventType}`).digest('hex').slice(0, 32)}`;
}
