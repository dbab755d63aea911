import type { Api } from '../api';

export type Role = 'admin' | 'agent' | 'seller' | 'buyer';

/** Who is logged in, and the API as them. */
export interface Ctx {
  api: Api;
  role: Role;
  /** the seller or buyer account the key acts for (none for admins and agents) */
  accountId: string | null;
  /** opens the decision trace of a call (the shared detail panel) */
  showCall(callId: string): void;
}

export const isOperator = (c: Ctx): boolean => c.role === 'admin' || c.role === 'agent';

/** The report's money column each role sees: a seller its payout, everyone else revenue (a buyer's spend). */
export const moneyLabel = (c: Ctx): string => (c.role === 'seller' ? 'Payout' : c.role === 'buyer' ? 'Spend' : 'Revenue');

/** A view of the console: its tab, the roles that see it, and how it draws itself into its section. */
export interface View {
  id: string;
  title: string;
  roles: Role[];
  /** draws the view into `root` (called when its tab is first opened) */
  mount(root: HTMLElement, ctx: Ctx): void | Promise<void>;
  /** called again each time the tab is shown */
  refresh?(): void | Promise<void>;
  stop?(): void;
}
