-- Standing bids change often (buyers update them over socket.io in batches): leave room in each page so an
-- update stays on its page (a HOT update, no index writes).
ALTER TABLE buyer_targets SET (fillfactor = 50);
