-- Webhook delivery retention (WEBHOOK_DELIVERY_RETENTION_DAYS, app/jobs/webhook-delivery-pruner.ts): deliveries
-- that are done with (delivered or dead) and older than the retention are deleted in batches, oldest first. This
-- index answers "the oldest rows" in order without reading the whole table (created_at never changes, so it adds
-- no work to a delivery's status updates).
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);
