package app

import (
	"log/slog"

	"github.com/magflow/magflow/internal/config"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/twoway"
)

// newTwoWay builds the writes to eMAG over the accounts' clients: the
// outbox drainers (run by the job service), the order callbacks (served by
// the API) and the reconciliation.
func newTwoWay(db *sqldb.DB, cfg *config.Config, clients map[string]*emag.Client, logger *slog.Logger) (*twoway.Service, error) {
	var accounts []twoway.Account
	for _, ac := range cfg.Accounts {
		accounts = append(accounts, twoway.Account{Name: ac.Name, Client: clients[ac.Name], AutoAck: ac.AutoAck, CallbackToken: ac.CallbackToken.Reveal()})
	}
	return twoway.New(twoway.Options{DB: db, Accounts: accounts, Logger: logger})
}
