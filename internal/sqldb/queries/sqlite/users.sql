-- name: CreateUser :one
INSERT INTO users (username, password_hash, role, disabled, created_at)
VALUES (?1, ?2, ?3, false, ?4)
RETURNING id, username, password_hash, role, disabled, created_at;

-- name: GetUserByName :one
SELECT id, username, password_hash, role, disabled, created_at FROM users WHERE username = ?1;

-- name: GetUserByID :one
SELECT id, username, password_hash, role, disabled, created_at FROM users WHERE id = ?1;

-- name: ListUsers :many
SELECT id, username, password_hash, role, disabled, created_at FROM users ORDER BY username;

-- name: SetUserPassword :execrows
UPDATE users SET password_hash = ?2 WHERE username = ?1;

-- name: SetUserDisabled :execrows
UPDATE users SET disabled = ?2 WHERE username = ?1;

-- name: SetUserRole :execrows
UPDATE users SET role = ?2 WHERE username = ?1;

-- name: CountUsers :one
SELECT COUNT(*) FROM users;

-- name: GetSetting :one
SELECT value FROM settings WHERE key = ?1;

-- name: PutSetting :exec
INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at;

-- name: ListSettings :many
SELECT key, value, updated_at FROM settings ORDER BY key;

-- name: DeleteSetting :execrows
DELETE FROM settings WHERE key = ?1;
