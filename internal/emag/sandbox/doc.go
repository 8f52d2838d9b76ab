// Package sandbox is a local simulator of the eMAG Marketplace API (api-3):
// what `magflow sandbox` serves, and what tests and benchmarks start
// in-process on a random loopback port.
//
// It follows the specification of docs/sandbox.md (derived from
// shared/emag-api.md §8): the RPC routes under /api-3, the four request body
// encodings, Basic auth and IP allow-lists per account, eMAG's envelope and
// its quirky shapes (prices and counts as strings, ownership as a boolean,
// GPSR flags that turn into lists when filtering by id, ...), validation of
// saves, the order status matrix, per-account sliding-window rate limits
// with 429 answers, fault injection (random and planned), catalogue churn
// during scans, order arrival on an injectable clock and order callbacks.
//
// Its data is generated deterministically from Options.Seed. It does not
// import the eMAG client: it speaks eMAG's wire shapes with its own types,
// and its tests use net/http directly.
package sandbox
