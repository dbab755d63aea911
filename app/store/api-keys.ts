import { createHash, randomBytes } from 'node:crypto';
import type { Pool } from 'pg';

export type Role = 'admin' | 'seller' | 'buyer' | 'agent';

export interface ApiPrincipal {
  keyId: string;
  role: Role;
  /** the account the key acts for; undefined for admin (and platform agents) */
  accountId?: string;
}

/** Keys are random and long, so one unsalted SHA-256 is enough to make a stolen table useless. */
export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/**
 * Why a key of this role cannot be bound to this account, or undefined when it can: seller and buyer keys act
 * for an existing account of their own kind; admin and agent keys act for the platform and take none. The
 * API answers these as 400/422 errors; the command-line tool prints them.
 */
export async function keyAccountProblem(pool: Pool, role: Role, accountId: string | undefined): Promise<string | undefined> {
  if (role === 'admin' || role === 'agent') return accountId === undefined ? undefined : `${role} keys act for the platform, not an account: leave out the account`;
  if (accountId === undefined) return `${role} keys need the ${role} account they act for`;
  const { rows } = await pool.query<{ kind: string }>('SELECT kind FROM accounts WHERE id = $1', [accountId]);
  if (!rows[0]) return `no account ${accountId}`;
  if (rows[0].kind !== role) return `account ${accountId} is a ${rows[0].kind} account, not a ${role} account`;
  return undefined;
}

/** Creates a key and returns it in clear: the only time it is ever seen. */
export async function createApiKey(pool: Pool, k: { role: Role; accountId?: string; label?: string }): Promise<{ id: string; key: string }> {
  const id = `key_${randomBytes(6).toString('hex')}`;
  const key = `cx_${randomBytes(24).toString('base64url')}`;
  await pool.query('INSERT INTO api_keys (id, key_hash, role, account_id, label) VALUES ($1, $2, $3, $4, $5)', [id, hashApiKey(key), k.role, k.accountId ?? null, k.label ?? '']);
  return { id, key };
}

/** A live key's principal, and whether its account is paused (such a key is refused; admin and agent keys have none). */
export interface KeyHolder {
  principal: ApiPrincipal;
  accountPaused: boolean;
}

/** The live (unrevoked) key with this secret, if any. */
export async function findApiKey(pool: Pool, key: string): Promise<KeyHolder | undefined> {
  const { rows } = await pool.query<{ id: string; role: Role; account_id: string | null; paused: boolean }>(
    `SELECT k.id, k.role, k.account_id, coalesce(NOT a.active, false) AS paused
     FROM api_keys k LEFT JOIN accounts a ON a.id = k.account_id
     WHERE k.key_hash = $1 AND k.revoked_at IS NULL`,
    [hashApiKey(key)],
  );
  const r = rows[0];
  return r ? { principal: { keyId: r.id, role: r.role, accountId: r.account_id ?? undefined }, accountPaused: r.paused } : undefined;
}
