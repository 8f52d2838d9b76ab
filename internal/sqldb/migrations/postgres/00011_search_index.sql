-- The word index takes new entries at once rather than through a pending
-- list: with fastupdate, a catalogue just synced leaves thousands of
-- entries in the list until the next VACUUM, and every search reads them
-- all (10 ms per search at 100,000 products). Page writes pay a little
-- more instead.

-- +goose Up
ALTER INDEX emag_products_terms SET (fastupdate = off);
SELECT gin_clean_pending_list('emag_products_terms'::regclass);

-- +goose Down
ALTER INDEX emag_products_terms RESET (fastupdate);
