-- What a seller may see of the buyer side of its calls (buyer ids, targets, prices, buyer charges), in REST and
-- live events. Off by default: only an admin turns it on (PATCH /v1/accounts/:id {"seesBuyerDetails": true}).
ALTER TABLE accounts ADD COLUMN sees_buyer_details boolean NOT NULL DEFAULT false;
