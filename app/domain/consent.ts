/**
 * Consent as evidence (issue 14, feature 2). Pure: time is passed in.
 * A consent record names its proof (a TrustedForm or Jornaya certificate id, the text the consumer was shown, the
 * consumer's IP) and when it stops counting. Expired consent is not consent.
 */

/** How long a consent counts when its record does not say (CONSENT_VALIDITY_DAYS overrides). */
export const DEFAULT_CONSENT_VALIDITY_DAYS = 90;

const DAY_MS = 86_400_000;

/** When a consent given at `consentedAt` stops counting: the record's own expiry, else the default validity. */
export function consentExpiry(consentedAt: Date, expiresAt: Date | undefined, validityDays: number): Date {
  return expiresAt ?? new Date(consentedAt.getTime() + validityDays * DAY_MS);
}

/** Whether a consent record admits a call at `now`: given by then, not revoked, not expired. */
export function consentLive(r: { consentedAt: Date; expiresAt: Date; revokedAt?: Date }, now: Date): boolean {
  return !r.revokedAt && r.consentedAt.getTime() <= now.getTime() && now.getTime() < r.expiresAt.getTime();
}

/** The ways a consumer may say "stop calling me" (FCC 2024 revocation rule: any reasonable means). */
export const REVOCATION_CHANNELS = ['api', 'phone', 'sms', 'email', 'web', 'mail', 'in_person', 'other'] as const;
export type RevocationChannel = (typeof REVOCATION_CHANNELS)[number];

/** Certificate services whose ids a consent may carry as evidence. */
export const CERTIFICATE_KINDS = ['trustedform', 'jornaya'] as const;
export type CertificateKind = (typeof CERTIFICATE_KINDS)[number];
