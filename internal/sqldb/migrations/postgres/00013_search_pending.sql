-- The word index takes page writes through its pending list again
-- (fastupdate): inserting each product's words into the index at once cost
-- a sixth of a first sync at 2 x 50,000 products (5,900 against 7,100
-- products/s). RebuildCanonical, the last step of a products sync, moves
-- the pending list into the index (gin_clean_pending_list), so searches
-- after a sync read no pending entries, as 00011 intended.

-- +goose Up
ALTER INDEX emag_products_terms SET (fastupdate = on);

-- +goose Down
ALTER INDEX emag_products_terms SET (fastupdate = off);
SELECT gin_clean_pending_list('emag_products_terms'::regclass);
