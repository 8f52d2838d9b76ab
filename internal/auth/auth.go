// Package auth hashes passwords and issues and verifies the API's JSON Web
// Tokens. It knows nothing of HTTP or storage: internal/httpapi reads tokens
// from requests and looks users up in the store.
//
// Tokens are HS256 JWTs of two kinds: short-lived access tokens (15 minutes)
// sent with every request, and refresh tokens (7 days) exchanged for a new
// pair. Both carry the user's id and a password version (a fingerprint of
// the stored hash), so changing a password revokes every token issued before;
// the API also refuses tokens of a disabled user on every request.
package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/magflow/magflow"
)

// Token lifetimes.
const (
	DefaultAccessTTL  = 15 * time.Minute
	DefaultRefreshTTL = 7 * 24 * time.Hour
)

// MinPasswordLength is the shortest password HashPassword accepts.
const MinPasswordLength = 8

// maxPasswordBytes is bcrypt's input limit.
const maxPasswordBytes = 72

// Token kinds, in the "typ" claim.
const (
	KindAccess  = "access"
	KindRefresh = "refresh"
)

// HashPassword returns a bcrypt hash of password at cost (bcrypt.DefaultCost
// when 0). It refuses passwords shorter than MinPasswordLength or longer than
// bcrypt's 72 bytes.
func HashPassword(password string, cost int) (string, error) {
	if len(password) < MinPasswordLength {
		return "", &magflow.Error{Code: magflow.EInvalid, Field: "password",
			Message: fmt.Sprintf("password too short: use at least %d characters", MinPasswordLength)}
	}
	if len(password) > maxPasswordBytes {
		return "", &magflow.Error{Code: magflow.EInvalid, Field: "password",
			Message: fmt.Sprintf("password too long: use at most %d bytes", maxPasswordBytes)}
	}
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// CheckPassword reports whether password matches hash.
func CheckPassword(hash, password string) bool {
	if len(password) > maxPasswordBytes {
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// dummyHash is compared against when a login names an unknown user, so that
// the answer takes as long as for a known one.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("magflow-timing-equaliser"), bcrypt.DefaultCost)
	return h
})

// CheckNoUser spends the time of one bcrypt comparison and returns false: a
// login for an unknown user must not answer faster than for a known one.
func CheckNoUser(password string) bool {
	_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
	return false
}

// PasswordVersion fingerprints a stored password hash. Tokens carry it; a
// changed password changes it, which revokes earlier tokens.
func PasswordVersion(hash string) string {
	sum := sha256.Sum256([]byte("magflow-pwv\x00" + hash))
	return hex.EncodeToString(sum[:6])
}

// Claims are what a MagFlow token says.
type Claims struct {
	Kind     string `json:"typ"`
	Username string `json:"name"`
	Role     string `json:"role"`
	// PasswordVersion is PasswordVersion of the hash at issue time.
	PasswordVersion string `json:"pwv"`
	jwt.RegisteredClaims
}

// UserID returns the subject as a user id.
func (c *Claims) UserID() int64 {
	id, _ := strconv.ParseInt(c.Subject, 10, 64)
	return id
}

// Subject is who a token is issued to.
type Subject struct {
	UserID       int64
	Username     string
	Role         string
	PasswordHash string
}

// Tokens are an access and refresh token pair.
type Tokens struct {
	AccessToken      string
	AccessExpiresAt  time.Time
	RefreshToken     string
	RefreshExpiresAt time.Time
}

// Issuer signs and verifies tokens with one secret.
type Issuer struct {
	secret     []byte
	accessTTL  time.Duration
	refreshTTL time.Duration
	now        func() time.Time

	// verified remembers the claims of tokens Verify accepted (every API
	// request verifies one; an HMAC and a JSON decode cost more than the
	// rest of a cached product list answer).
	vmu      sync.Mutex
	verified map[string]*Claims
}

// IssuerOptions configure an Issuer. Zero durations get the defaults.
type IssuerOptions struct {
	Secret     []byte
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	// Now is the clock (time.Now by default).
	Now func() time.Time
}

// issuerName is the "iss" claim.
const issuerName = "magflow"

// NewIssuer returns an Issuer; the secret must be at least 16 bytes.
func NewIssuer(o IssuerOptions) (*Issuer, error) {
	if len(o.Secret) < 16 {
		return nil, &magflow.Error{Code: magflow.EInvalid, Field: "MAGFLOW_JWT_SECRET",
			Message: "the JWT secret is shorter than 16 bytes: use a random secret of at least 32 characters, e.g. `openssl rand -hex 32`"}
	}
	is := &Issuer{secret: append([]byte(nil), o.Secret...), accessTTL: o.AccessTTL, refreshTTL: o.RefreshTTL, now: o.Now}
	if is.accessTTL <= 0 {
		is.accessTTL = DefaultAccessTTL
	}
	if is.refreshTTL <= 0 {
		is.refreshTTL = DefaultRefreshTTL
	}
	if is.now == nil {
		is.now = time.Now
	}
	return is, nil
}

// AccessTTL returns the access token lifetime.
func (is *Issuer) AccessTTL() time.Duration { return is.accessTTL }

// Issue returns a new access and refresh token pair for s.
func (is *Issuer) Issue(s Subject) (Tokens, error) {
	now := is.now()
	access, aexp, err := is.sign(s, KindAccess, now, is.accessTTL)
	if err != nil {
		return Tokens{}, err
	}
	refresh, rexp, err := is.sign(s, KindRefresh, now, is.refreshTTL)
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{AccessToken: access, AccessExpiresAt: aexp, RefreshToken: refresh, RefreshExpiresAt: rexp}, nil
}

// IssueAccess returns one access token for s valid for ttl (for service
// accounts such as a Prometheus scraper: `magflow user token`).
func (is *Issuer) IssueAccess(s Subject, ttl time.Duration) (string, time.Time, error) {
	if ttl <= 0 {
		ttl = is.accessTTL
	}
	return is.sign(s, KindAccess, is.now(), ttl)
}

func (is *Issuer) sign(s Subject, kind string, now time.Time, ttl time.Duration) (string, time.Time, error) {
	exp := now.Add(ttl).Truncate(time.Second)
	c := Claims{
		Kind: kind, Username: s.Username, Role: s.Role, PasswordVersion: PasswordVersion(s.PasswordHash),
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuerName,
			Subject:   strconv.FormatInt(s.UserID, 10),
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(is.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign %s token: %w", kind, err)
	}
	return tok, exp, nil
}

// ErrExpired is the cause of the EUnauthorized Verify returns for an expired
// token, so clients can tell "refresh" from "log in again".
var ErrExpired = errors.New("token expired")

// Verify checks a token's signature, expiry and kind and returns its claims.
// Every failure is EUnauthorized with a message saying what to do.
func (is *Issuer) Verify(token, kind string) (*Claims, error) {
	if c := is.cached(token); c != nil && c.Kind == kind && c.UserID() > 0 {
		return c, nil
	}
	c, err := is.verify(token, kind)
	if err == nil {
		is.remember(token, c)
	}
	return c, err
}

// verifiedMax bounds the tokens Verify remembers.
const verifiedMax = 4096

// cached returns a copy of token's claims if Verify verified it before
// and it has not expired since, else nil. A token's signature and claims
// never change: only the clock can make it invalid.
func (is *Issuer) cached(token string) *Claims {
	is.vmu.Lock()
	c := is.verified[token]
	is.vmu.Unlock()
	if c == nil || c.ExpiresAt == nil {
		return nil
	}
	now := is.now()
	if !now.Before(c.ExpiresAt.Time) || c.NotBefore != nil && now.Before(c.NotBefore.Time) {
		return nil
	}
	cc := *c
	return &cc
}

func (is *Issuer) remember(token string, c *Claims) {
	cc := *c
	is.vmu.Lock()
	if is.verified == nil || len(is.verified) >= verifiedMax {
		is.verified = map[string]*Claims{}
	}
	is.verified[token] = &cc
	is.vmu.Unlock()
}

// verify checks token's signature, issuer, expiry and kind.
func (is *Issuer) verify(token, kind string) (*Claims, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return is.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuerName),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(is.now),
	)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		msg := "the access token has expired: get a new one from POST /api/v1/auth/refresh"
		if kind == KindRefresh {
			msg = "the refresh token has expired: log in again with POST /api/v1/auth/login"
		}
		return nil, &magflow.Error{Code: magflow.EUnauthorized, Message: msg, Err: ErrExpired}
	case err != nil:
		return nil, &magflow.Error{Code: magflow.EUnauthorized, Message: "invalid token: log in with POST /api/v1/auth/login and send the access token as `Authorization: Bearer <token>`"}
	}
	if c.Kind != kind {
		return nil, &magflow.Error{Code: magflow.EUnauthorized, Message: fmt.Sprintf("a %s token was sent where a %s token is required", c.Kind, kind)}
	}
	if c.UserID() <= 0 {
		return nil, &magflow.Error{Code: magflow.EUnauthorized, Message: "invalid token subject: log in again"}
	}
	return &c, nil
}
