// Package syncer is MagFlow's sync engine: it copies one or more eMAG
// accounts' products, offers and orders into the store, every account side by
// side, each paced by its own rate-limit buckets (the eMAG client waits on
// them), and never skips data silently.
//
// A run is per account and stream. The catalogue scan (product_offer/read)
// feeds both the products and the offers tables: pages are fetched a few at a
// time and committed strictly in page order, each page's rows together with
// the checkpoint in one transaction, so a run killed at any instant resumes
// from the last committed page. A page that still fails after the client's
// retries becomes a hole in a ledger: the run ends partial and the next run
// fetches the holes first. Orders are read incrementally in modifiedAfter
// windows of at most a month, both order types, and the cursor advances only
// once a window's rows are committed.
//
// The engine talks to eMAG through the Source interface and to the database
// through Store; internal/app wires the concrete eMAG client and sqldb store.
package syncer
