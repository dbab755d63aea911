/**
 * The viewer behind an API key, for the role projections (app/api/projections.ts): its role and account, and for
 * a seller whether the platform lets it see the buyer side of its calls (accounts.sees_buyer_details).
 */
import type { Pool } from 'pg';
import type { Viewer } from './projections';
import type { ApiPrincipal } from '../store/api-keys';

export async function viewerOf(pool: Pool, p: ApiPrincipal): Promise<Viewer> {
  if (p.role !== 'seller' || !p.accountId) return { role: p.role, ...(p.accountId ? { accountId: p.accountId } : {}) };
  const { rows } = await pool.query<{ sees_buyer_details: boolean }>('SELECT sees_buyer_details FROM accounts WHERE id = $1', [p.accountId]);
  return { role: p.role, accountId: p.accountId, seesBuyerDetails: rows[0]?.sees_buyer_details === true };
}
