// Package magflow holds MagFlow's domain: the eMAG seller accounts and
// platforms, the products, offers and orders that eMAG holds about them, the
// sync runs that copy them into the seller's database, and the small error
// vocabulary that every layer speaks.
//
// It imports only the standard library. Implementations live under internal/
// in packages named for what they wrap: internal/emag (the API client),
// internal/sqldb (SQLite and PostgreSQL), internal/syncer (the engine),
// internal/httpapi (the REST API), and internal/app wires them together.
package magflow
