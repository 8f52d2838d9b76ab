package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"
)

// column is one column of an upsert.
type column struct {
	name string
	// pg is the element type of the PostgreSQL array the column's values
	// travel in: bigint, text, bool or timestamptz.
	pg string
	// cast converts the unnested value on PostgreSQL (jsonb, json,
	// numeric), or "".
	cast string
	// null marks a column whose values may be nil (text and timestamptz).
	null bool
}

// upsertSpec describes the upsert of one table: rows are inserted, or on a
// conflict over key every column but key and keep is overwritten.
type upsertSpec struct {
	table string
	key   []string
	keep  []string
	cols  []column
	// lits are columns set to a literal SQL expression ([name, expr]) on
	// insert and on update.
	lits [][2]string

	once sync.Once
	text string
}

func (s *upsertSpec) setList() string {
	skip := map[string]bool{}
	for _, c := range append(append([]string{}, s.key...), s.keep...) {
		skip[c] = true
	}
	var set []string
	for _, c := range s.cols {
		if !skip[c.name] {
			set = append(set, c.name+" = excluded."+c.name)
		}
	}
	for _, l := range s.lits {
		set = append(set, l[0]+" = "+l[1])
	}
	return " ON CONFLICT (" + strings.Join(s.key, ", ") + ") DO UPDATE SET " + strings.Join(set, ", ")
}

// sql returns the statement: on SQLite one row of "?" values (a prepared
// statement run once per row is cheaper than parsing a multi-row one); on
// PostgreSQL an INSERT ... SELECT of one array per column, so a whole page
// is one round trip and one statement shape. The arrays are unnested in a
// select list (they have the same length, so they run in lockstep), which
// streams the rows: unnest(a, b, ...) in FROM is a function scan that first
// copies every row, raw payloads included, into a tuplestore (about 6% of
// PostgreSQL's CPU during page writes).
func (s *upsertSpec) sql(d Dialect) string {
	s.once.Do(func() {
		names := make([]string, 0, len(s.cols)+len(s.lits))
		for _, c := range s.cols {
			names = append(names, c.name)
		}
		for _, l := range s.lits {
			names = append(names, l[0])
		}
		var b strings.Builder
		b.WriteString("INSERT INTO " + s.table + " (" + strings.Join(names, ", ") + ") ")
		if d == SQLite {
			vals := make([]string, 0, len(names))
			for range s.cols {
				vals = append(vals, "?")
			}
			for _, l := range s.lits {
				vals = append(vals, l[1])
			}
			b.WriteString("VALUES (" + strings.Join(vals, ", ") + ")")
		} else {
			sel := make([]string, 0, len(names))
			arrays := make([]string, 0, len(s.cols))
			for i, c := range s.cols {
				a := fmt.Sprintf("c%d", i)
				arrays = append(arrays, "unnest(?::"+c.pg+"[]) AS "+a)
				if c.cast != "" {
					a += "::" + c.cast
				}
				sel = append(sel, a)
			}
			for _, l := range s.lits {
				sel = append(sel, l[1])
			}
			b.WriteString("SELECT " + strings.Join(sel, ", ") + " FROM (SELECT " + strings.Join(arrays, ", ") + ") AS u")
		}
		b.WriteString(s.setList())
		s.text = b.String()
	})
	return s.text
}

// upsertRows writes rows (values in s.cols order) in tx.
func (db *DB) upsertRows(ctx context.Context, tx *sql.Tx, s *upsertSpec, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	q := s.sql(db.dialect)
	if db.dialect == SQLite {
		for _, r := range rows {
			if _, err := db.txExec(ctx, tx, q, r...); err != nil {
				return fmt.Errorf("upsert %s: %w", s.table, err)
			}
		}
		return nil
	}
	args, err := s.pgArrays(rows)
	if err != nil {
		return err
	}
	if _, err := db.txExec(ctx, tx, q, args...); err != nil {
		return fmt.Errorf("upsert %s: %w", s.table, err)
	}
	return nil
}

// pgArrays returns the arguments of the PostgreSQL statement: one array
// per column.
func (s *upsertSpec) pgArrays(rows [][]any) ([]any, error) {
	args := make([]any, len(s.cols))
	for i, c := range s.cols {
		a, err := pgArray(c, rows, i)
		if err != nil {
			return nil, fmt.Errorf("upsert %s: %w", s.table, err)
		}
		args[i] = a
	}
	return args, nil
}

// pgArray gathers column i of rows into the Go slice pgx sends as c's
// array type.
func pgArray(c column, rows [][]any, i int) (any, error) {
	bad := func(v any) error { return fmt.Errorf("column %s: unexpected %T", c.name, v) }
	switch {
	case c.pg == "bigint":
		out := make([]int64, len(rows))
		for j, r := range rows {
			switch v := r[i].(type) {
			case int64:
				out[j] = v
			case int:
				out[j] = int64(v)
			default:
				return nil, bad(v)
			}
		}
		return out, nil
	case c.pg == "bool":
		out := make([]bool, len(rows))
		for j, r := range rows {
			v, ok := r[i].(bool)
			if !ok {
				return nil, bad(r[i])
			}
			out[j] = v
		}
		return out, nil
	case c.pg == "text" && c.null:
		out := make([]*string, len(rows))
		for j, r := range rows {
			switch v := r[i].(type) {
			case nil:
			case string:
				out[j] = &v
			default:
				return nil, bad(v)
			}
		}
		return out, nil
	case c.pg == "text":
		out := make([]string, len(rows))
		for j, r := range rows {
			v, ok := r[i].(string)
			if !ok {
				return nil, bad(r[i])
			}
			out[j] = v
		}
		return out, nil
	case c.pg == "timestamptz" && !c.null:
		// []time.Time has pgx's direct encode plan; []*time.Time goes
		// through reflection.
		out := make([]time.Time, len(rows))
		for j, r := range rows {
			v, ok := r[i].(time.Time)
			if !ok {
				return nil, bad(r[i])
			}
			out[j] = v
		}
		return out, nil
	case c.pg == "timestamptz":
		out := make([]*time.Time, len(rows))
		for j, r := range rows {
			switch v := r[i].(type) {
			case nil:
			case time.Time:
				out[j] = &v
			default:
				return nil, bad(v)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("column %s: unknown array type %q", c.name, c.pg)
}
