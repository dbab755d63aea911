-- Each standing-bid write bumps its row's bid version, and the message that tells the other nodes carries it: a
-- node that hears two updates of one target out of order (two nodes wrote them, their publishes crossed) keeps the
-- later one instead of the one heard last.
ALTER TABLE buyer_targets ADD COLUMN bid_version bigint NOT NULL DEFAULT 0;
