// Package jobs runs MagFlow's background work on River: scheduled syncs per
// account and stream, the syncs themselves, and the reaper of runs whose
// process died. The same code serves both engines: riversqlite in-process
// for SQLite (magflow serve on one machine), riverdatabasesql for PostgreSQL
// (magflow serve and any number of magflow worker processes sharing the
// work); River's client type is river.Client[*sql.Tx] either way.
//
// What lives here:
//   - SyncArgs and its worker: one run of one account and stream through the
//     sync engine. Jobs are unique per account and stream while queued or
//     running, and the store's single-flight rule (one running run per
//     account and stream, whoever started it) still decides: a job that
//     finds the run already going elsewhere ends without doing anything.
//   - Periodic jobs, one per account and stream (catalogue every
//     EMAG_SYNC_INTERVAL_MINUTES, orders every
//     EMAG_ORDERS_SYNC_INTERVAL_MINUTES, or what POST .../sync/scheduled
//     stored, re-read every Options.ScheduleRefresh). Their instants are
//     fixed slots with a per-account phase and a per-tick jitter, never
//     near a round minute (eMAG asks integrators not to call on the hour),
//     and the same on every process, so a change of River leader neither
//     skips nor doubles a tick. Only River's elected leader enqueues them.
//   - ReapArgs and its worker (periodic, every Options.ReapInterval): runs
//     whose heartbeat lease expired belong to a dead process; the reaper
//     hands their River job back to the queue (or enqueues one) so another
//     worker takes the run over and resumes it from its checkpoint.
//
// What does not live here: the sync engine (internal/syncer), the stores and
// the shared rate-limit ledger (internal/sqldb), the wiring of clients and
// limiters (internal/app).
package jobs
