package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/sqldb/pgdb"
	"github.com/magflow/magflow/internal/sqldb/sqlitedb"
)

// userQueries is the sqlc-generated API both engines share; the SQLite
// package's types are converted to pgdb's (their shapes are identical).
type userQueries interface {
	CountUsers(ctx context.Context) (int64, error)
	CreateUser(ctx context.Context, arg pgdb.CreateUserParams) (pgdb.User, error)
	DeleteSetting(ctx context.Context, key string) (int64, error)
	GetSetting(ctx context.Context, key string) (string, error)
	GetUserByID(ctx context.Context, id int64) (pgdb.User, error)
	GetUserByName(ctx context.Context, username string) (pgdb.User, error)
	ListSettings(ctx context.Context) ([]pgdb.Setting, error)
	ListUsers(ctx context.Context) ([]pgdb.User, error)
	PutSetting(ctx context.Context, arg pgdb.PutSettingParams) error
	SetUserDisabled(ctx context.Context, arg pgdb.SetUserDisabledParams) (int64, error)
	SetUserPassword(ctx context.Context, arg pgdb.SetUserPasswordParams) (int64, error)
	SetUserRole(ctx context.Context, arg pgdb.SetUserRoleParams) (int64, error)
}

type sqliteQueries struct{ q *sqlitedb.Queries }

func (s sqliteQueries) CountUsers(ctx context.Context) (int64, error) { return s.q.CountUsers(ctx) }
func (s sqliteQueries) CreateUser(ctx context.Context, a pgdb.CreateUserParams) (pgdb.User, error) {
	u, err := s.q.CreateUser(ctx, sqlitedb.CreateUserParams(a))
	return pgdb.User(u), err
}
func (s sqliteQueries) DeleteSetting(ctx context.Context, key string) (int64, error) {
	return s.q.DeleteSetting(ctx, key)
}
func (s sqliteQueries) GetSetting(ctx context.Context, key string) (string, error) {
	return s.q.GetSetting(ctx, key)
}
func (s sqliteQueries) GetUserByID(ctx context.Context, id int64) (pgdb.User, error) {
	u, err := s.q.GetUserByID(ctx, id)
	return pgdb.User(u), err
}
func (s sqliteQueries) GetUserByName(ctx context.Context, name string) (pgdb.User, error) {
	u, err := s.q.GetUserByName(ctx, name)
	return pgdb.User(u), err
}
func (s sqliteQueries) ListSettings(ctx context.Context) ([]pgdb.Setting, error) {
	ss, err := s.q.ListSettings(ctx)
	out := make([]pgdb.Setting, len(ss))
	for i, x := range ss {
		out[i] = pgdb.Setting(x)
	}
	return out, err
}
func (s sqliteQueries) ListUsers(ctx context.Context) ([]pgdb.User, error) {
	us, err := s.q.ListUsers(ctx)
	out := make([]pgdb.User, len(us))
	for i, x := range us {
		out[i] = pgdb.User(x)
	}
	return out, err
}
func (s sqliteQueries) PutSetting(ctx context.Context, a pgdb.PutSettingParams) error {
	return s.q.PutSetting(ctx, sqlitedb.PutSettingParams(a))
}
func (s sqliteQueries) SetUserDisabled(ctx context.Context, a pgdb.SetUserDisabledParams) (int64, error) {
	return s.q.SetUserDisabled(ctx, sqlitedb.SetUserDisabledParams(a))
}
func (s sqliteQueries) SetUserPassword(ctx context.Context, a pgdb.SetUserPasswordParams) (int64, error) {
	return s.q.SetUserPassword(ctx, sqlitedb.SetUserPasswordParams(a))
}
func (s sqliteQueries) SetUserRole(ctx context.Context, a pgdb.SetUserRoleParams) (int64, error) {
	return s.q.SetUserRole(ctx, sqlitedb.SetUserRoleParams(a))
}

// queries returns the generated queries on conn (a pool or a transaction).
func (db *DB) queries(conn interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
	PrepareContext(context.Context, string) (*sql.Stmt, error)
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) userQueries {
	if db.dialect == SQLite {
		return sqliteQueries{sqlitedb.New(conn)}
	}
	return pgdb.New(conn)
}

// Roles a user may have.
const (
	RoleViewer   = "viewer"   // reads
	RoleOperator = "operator" // reads, starts syncs, changes schedules
)

// User is an account of the MagFlow API. PasswordHash is a bcrypt or argon2
// hash made by internal/auth; the store never sees a password.
type User struct {
	ID           int64
	Username     string
	PasswordHash string
	Role         string
	Disabled     bool
	CreatedAt    time.Time
}

func userOf(u pgdb.User) User {
	return User{ID: u.ID, Username: u.Username, PasswordHash: u.PasswordHash, Role: u.Role, Disabled: u.Disabled, CreatedAt: u.CreatedAt.UTC()}
}

func validRole(role string) error {
	if role != RoleViewer && role != RoleOperator {
		return &magflow.Error{Code: magflow.EInvalid, Field: "role", Message: fmt.Sprintf("unknown role %q: use viewer or operator", role)}
	}
	return nil
}

// CreateUser adds a user; EConflict when the username is taken.
func (db *DB) CreateUser(ctx context.Context, username, passwordHash, role string) (User, error) {
	username = strings.TrimSpace(username)
	if username == "" {
		return User{}, &magflow.Error{Code: magflow.EInvalid, Field: "username", Message: "username is required"}
	}
	if passwordHash == "" {
		return User{}, &magflow.Error{Code: magflow.EInvalid, Field: "password", Message: "password hash is required"}
	}
	if err := validRole(role); err != nil {
		return User{}, err
	}
	u, err := db.queries(db.write).CreateUser(ctx, pgdb.CreateUserParams{Username: username, PasswordHash: passwordHash, Role: role, CreatedAt: db.now()})
	if err != nil {
		err = db.wrap("create user", err)
		if magflow.ErrorCode(err) == magflow.EConflict {
			return User{}, &magflow.Error{Code: magflow.EConflict, Field: "username", Message: fmt.Sprintf("user %q already exists", username)}
		}
		return User{}, err
	}
	return userOf(u), nil
}

// GetUser returns the user named username; ENotFound when there is none.
func (db *DB) GetUser(ctx context.Context, username string) (User, error) {
	u, err := db.queries(db.read).GetUserByName(ctx, username)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, magflow.Errorf(magflow.ENotFound, "user %q not found", username)
	}
	if err != nil {
		return User{}, db.wrap("get user", err)
	}
	return userOf(u), nil
}

// GetUserByID returns the user with id; ENotFound when there is none.
func (db *DB) GetUserByID(ctx context.Context, id int64) (User, error) {
	u, err := db.queries(db.read).GetUserByID(ctx, id)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, magflow.Errorf(magflow.ENotFound, "user %d not found", id)
	}
	if err != nil {
		return User{}, db.wrap("get user", err)
	}
	return userOf(u), nil
}

// ListUsers returns every user by username.
func (db *DB) ListUsers(ctx context.Context) ([]User, error) {
	us, err := db.queries(db.read).ListUsers(ctx)
	if err != nil {
		return nil, db.wrap("list users", err)
	}
	out := make([]User, len(us))
	for i, u := range us {
		out[i] = userOf(u)
	}
	return out, nil
}

// CountUsers returns how many users exist.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	n, err := db.queries(db.read).CountUsers(ctx)
	return int(n), db.wrap("count users", err)
}

func (db *DB) userUpdate(what, username string, n int64, err error) error {
	if err != nil {
		return db.wrap(what, err)
	}
	if n == 0 {
		return magflow.Errorf(magflow.ENotFound, "user %q not found", username)
	}
	return nil
}

// SetPassword replaces a user's password hash.
func (db *DB) SetPassword(ctx context.Context, username, passwordHash string) error {
	if passwordHash == "" {
		return &magflow.Error{Code: magflow.EInvalid, Field: "password", Message: "password hash is required"}
	}
	n, err := db.queries(db.write).SetUserPassword(ctx, pgdb.SetUserPasswordParams{Username: username, PasswordHash: passwordHash})
	return db.userUpdate("set password", username, n, err)
}

// SetDisabled disables or re-enables a user.
func (db *DB) SetDisabled(ctx context.Context, username string, disabled bool) error {
	n, err := db.queries(db.write).SetUserDisabled(ctx, pgdb.SetUserDisabledParams{Username: username, Disabled: disabled})
	return db.userUpdate("disable user", username, n, err)
}

// SetRole changes a user's role.
func (db *DB) SetRole(ctx context.Context, username, role string) error {
	if err := validRole(role); err != nil {
		return err
	}
	n, err := db.queries(db.write).SetUserRole(ctx, pgdb.SetUserRoleParams{Username: username, Role: role})
	return db.userUpdate("set role", username, n, err)
}

// Setting is one stored key/value pair (schedules live here).
type Setting struct {
	Key       string
	Value     string
	UpdatedAt time.Time
}

// GetSetting returns the value stored under key; ENotFound when unset.
func (db *DB) GetSetting(ctx context.Context, key string) (string, error) {
	v, err := db.queries(db.read).GetSetting(ctx, key)
	if errors.Is(err, sql.ErrNoRows) {
		return "", magflow.Errorf(magflow.ENotFound, "setting %q not set", key)
	}
	return v, db.wrap("get setting", err)
}

// PutSetting stores value under key, replacing any earlier value.
func (db *DB) PutSetting(ctx context.Context, key, value string) error {
	if key == "" {
		return &magflow.Error{Code: magflow.EInvalid, Field: "key", Message: "setting key is required"}
	}
	return db.wrap("put setting", db.queries(db.write).PutSetting(ctx, pgdb.PutSettingParams{Key: key, Value: value, UpdatedAt: db.now()}))
}

// DeleteSetting removes key; ENotFound when it was not set.
func (db *DB) DeleteSetting(ctx context.Context, key string) error {
	n, err := db.queries(db.write).DeleteSetting(ctx, key)
	if err != nil {
		return db.wrap("delete setting", err)
	}
	if n == 0 {
		return magflow.Errorf(magflow.ENotFound, "setting %q not set", key)
	}
	return nil
}

// ListSettings returns every setting by key.
func (db *DB) ListSettings(ctx context.Context) ([]Setting, error) {
	ss, err := db.queries(db.read).ListSettings(ctx)
	if err != nil {
		return nil, db.wrap("list settings", err)
	}
	out := make([]Setting, len(ss))
	for i, s := range ss {
		out[i] = Setting{Key: s.Key, Value: s.Value, UpdatedAt: s.UpdatedAt.UTC()}
	}
	return out, nil
}
