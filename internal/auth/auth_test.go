package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/magflow/magflow"
)

func TestHashPassword(t *testing.T) {
	t.Parallel()
	h, err := HashPassword("correct horse", bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$2") || strings.Contains(h, "correct horse") {
		t.Fatalf("hash %q is not a bcrypt hash", h)
	}
	if !CheckPassword(h, "correct horse") || CheckPassword(h, "correct horsE") {
		t.Fatal("CheckPassword disagrees with the hash")
	}
	for _, pw := range []string{"short", strings.Repeat("x", 73)} {
		if _, err := HashPassword(pw, bcrypt.MinCost); magflow.ErrorCode(err) != magflow.EInvalid {
			t.Errorf("HashPassword(%d bytes) = %v, want EInvalid", len(pw), err)
		}
	}
	if CheckNoUser("anything") {
		t.Fatal("CheckNoUser must fail")
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	is, err := NewIssuer(IssuerOptions{Secret: []byte("0123456789abcdef0123456789abcdef"), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	sub := Subject{UserID: 7, Username: "ana", Role: "operator", PasswordHash: "$2a$hash"}
	toks, err := is.Issue(sub)
	if err != nil {
		t.Fatal(err)
	}
	if got := toks.AccessExpiresAt.Sub(now); got != DefaultAccessTTL {
		t.Errorf("access ttl %v", got)
	}
	if got := toks.RefreshExpiresAt.Sub(now); got != DefaultRefreshTTL {
		t.Errorf("refresh ttl %v", got)
	}
	c, err := is.Verify(toks.AccessToken, KindAccess)
	if err != nil {
		t.Fatal(err)
	}
	if c.UserID() != 7 || c.Username != "ana" || c.Role != "operator" || c.PasswordVersion != PasswordVersion("$2a$hash") {
		t.Fatalf("claims %+v", c)
	}
	if _, err := is.Verify(toks.RefreshToken, KindAccess); magflow.ErrorCode(err) != magflow.EUnauthorized {
		t.Errorf("refresh token accepted as access: %v", err)
	}
	if _, err := is.Verify(toks.AccessToken, KindRefresh); magflow.ErrorCode(err) != magflow.EUnauthorized {
		t.Errorf("access token accepted as refresh: %v", err)
	}
	if _, err := is.Verify(toks.RefreshToken, KindRefresh); err != nil {
		t.Errorf("refresh token refused: %v", err)
	}

	// Another secret, a tampered token, garbage.
	other, _ := NewIssuer(IssuerOptions{Secret: []byte("another-secret-of-enough-length!"), Now: clock})
	for name, tok := range map[string]string{
		"other secret": func() string { t2, _ := other.Issue(sub); return t2.AccessToken }(),
		"tampered":     toks.AccessToken[:len(toks.AccessToken)-2] + "xx",
		"garbage":      "not.a.jwt",
		"empty":        "",
	} {
		if _, err := is.Verify(tok, KindAccess); magflow.ErrorCode(err) != magflow.EUnauthorized {
			t.Errorf("%s: Verify = %v, want EUnauthorized", name, err)
		}
	}

	// Expiry.
	now = now.Add(DefaultAccessTTL + time.Second)
	_, err = is.Verify(toks.AccessToken, KindAccess)
	if !errors.Is(err, ErrExpired) || !strings.Contains(err.Error(), "refresh") {
		t.Errorf("expired access token: %v", err)
	}
	if _, err := is.Verify(toks.RefreshToken, KindRefresh); err != nil {
		t.Errorf("refresh token expired early: %v", err)
	}
	now = now.Add(DefaultRefreshTTL)
	if _, err := is.Verify(toks.RefreshToken, KindRefresh); !errors.Is(err, ErrExpired) {
		t.Errorf("expired refresh token: %v", err)
	}
}

func TestNewIssuerRefusesShortSecret(t *testing.T) {
	t.Parallel()
	if _, err := NewIssuer(IssuerOptions{Secret: []byte("short")}); magflow.ErrorCode(err) != magflow.EInvalid {
		t.Fatalf("NewIssuer(short) = %v", err)
	}
}

func TestPasswordVersionChangesWithHash(t *testing.T) {
	t.Parallel()
	if PasswordVersion("a") == PasswordVersion("b") || PasswordVersion("a") != PasswordVersion("a") {
		t.Fatal("PasswordVersion is not a fingerprint")
	}
}

// TestVerifyRemembers: a verified token is answered from memory, as a copy
// (a caller changing its claims changes nothing), until it expires.
func TestVerifyRemembers(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	is, err := NewIssuer(IssuerOptions{Secret: []byte("0123456789abcdef0123456789abcdef"), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	toks, err := is.Issue(Subject{UserID: 7, Username: "ana", Role: "viewer", PasswordHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	c1, err := is.Verify(toks.AccessToken, KindAccess)
	if err != nil {
		t.Fatal(err)
	}
	c1.Role = "operator"
	if is.cached(toks.AccessToken) == nil {
		t.Fatal("the verified token is not remembered")
	}
	c2, err := is.Verify(toks.AccessToken, KindAccess)
	if err != nil || c2.Role != "viewer" {
		t.Fatalf("second verify: %+v %v", c2, err)
	}
	now = toks.AccessExpiresAt
	if _, err := is.Verify(toks.AccessToken, KindAccess); !errors.Is(err, ErrExpired) {
		t.Fatalf("at its expiry: %v", err)
	}
}
