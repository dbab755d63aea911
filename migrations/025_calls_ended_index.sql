-- The billing sweep (app/jobs/billing-sweep.ts) looks for ended calls that have no call_billing row (their billing
-- job was lost with Redis' data) by reading the calls that ended in a time window, in (ended_at, id) pages: this
-- index answers that range in order, without reading the calls still in progress (no ended_at) or sorting.
CREATE INDEX calls_ended ON calls (ended_at, id) WHERE ended_at IS NOT NULL;
