package sqldb

// SetSearchDriveMax makes searches with more than n matches walk the
// products in sort order instead of being driven from their matches (on
// PostgreSQL), so that tests reach both shapes with few products.
func (db *DB) SetSearchDriveMax(n int) { db.driveMax = n }
