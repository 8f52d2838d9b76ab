// Package emag is the typed client of the eMAG Marketplace seller API
// (api-3, documentation v4.4.9) for one seller account. It holds no state
// beyond pacing and talks to no database.
//
// What lives here:
//
//   - client.go: Options, New, the request loop: rate-limit waits before
//     every attempt (ratelimit.Orders for order/*, ratelimit.EAN for
//     documentation/find_by_eans, ratelimit.Other for the rest), optional
//     MinSpacing, retries (429 always; 5xx, timeouts, resets and truncated
//     bodies for reads only; writes only when they cannot have been
//     applied), hooks and alerts.
//   - errors.go: the single *Error type with a Kind, errors.Is sentinels,
//     Code() in magflow's vocabulary and Remedy() for the seller.
//   - envelope.go, jsonscan.go, flex.go: the response envelope and the
//     lenient decoding of eMAG's real shapes (numbers as strings, bool or
//     int, object or list, PHP [] for empty objects, null ints). Hot
//     decoders walk the bytes once without reflection; FlexInt and friends
//     serve structs decoded with encoding/json.
//   - pages.go: Count and the Pager / Pages iterator.
//   - one file per resource group: product offers and saves, orders,
//     reference data (categories, VAT, handling times, localities, courier
//     accounts, addresses), AWB, RMA, EAN search and campaign proposals.
//
// What does not live here: the simulator (internal/emag/sandbox), the rate
// limiter implementations (internal/ratelimit), storage and sync logic
// (internal/sqldb, internal/syncer).
//
// Fixtures for every real-world quirk the client handles live in
// testdata/emag, each loaded by a test through an httptest server that
// speaks eMAG's envelope.
package emag
