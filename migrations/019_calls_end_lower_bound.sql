-- A call closed node_lost (its node died and the switch no longer has it, or it was handed to the fallback in setup)
-- has no real end: its ended_at is a lower bound of it. For one that had bridged, that is when it was last known
-- alive (its dead node's last heartbeat, or a later sweep that still saw it), and its billable_sec (what billing
-- charges on) counts to that moment. False for any end the switch reported.
ALTER TABLE calls ADD COLUMN end_is_lower_bound boolean NOT NULL DEFAULT false;
