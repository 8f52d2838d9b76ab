package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/auth"
	"github.com/magflow/magflow/internal/sqldb"
)

// LoginInput is the body of POST /api/v1/auth/login.
type LoginInput struct {
	Body struct {
		Username string `json:"username" minLength:"1" maxLength:"200"`
		Password string `json:"password" minLength:"1" maxLength:"200"`
	}
}

// RefreshInput is the body of POST /api/v1/auth/refresh.
type RefreshInput struct {
	Body struct {
		RefreshToken string `json:"refresh_token" minLength:"1" maxLength:"4096"`
	}
}

// User is who a token belongs to.
type User struct {
	Username string `json:"username"`
	Role     string `json:"role" enum:"viewer,operator"`
}

// TokenOutput is the answer of login and refresh.
type TokenOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         struct {
		AccessToken      string    `json:"access_token"`
		TokenType        string    `json:"token_type" example:"Bearer"`
		ExpiresIn        int       `json:"expires_in" doc:"Seconds until the access token expires."`
		ExpiresAt        time.Time `json:"expires_at"`
		RefreshToken     string    `json:"refresh_token"`
		RefreshExpiresAt time.Time `json:"refresh_expires_at"`
		User             User      `json:"user"`
	}
}

// MeOutput is the answer of GET /api/v1/auth/me.
type MeOutput struct {
	Body User
}

var badLogin = &magflow.Error{Code: magflow.EUnauthorized, Message: "wrong username or password"}

func (s *Server) registerAuth() {
	huma.Register(s.api, huma.Operation{
		OperationID: "login", Method: http.MethodPost, Path: "/api/v1/auth/login", Tags: []string{"Auth"},
		Summary:     "Log in",
		Description: "Exchange a username and password for an access token (15 minutes) and a refresh token (7 days). Rate-limited per client.",
		Metadata:    map[string]any{metaPublic: true},
		Errors:      []int{400, 401, 429},
	}, func(ctx context.Context, in *LoginInput) (*TokenOutput, error) {
		u, err := s.db.GetUser(ctx, in.Body.Username)
		switch {
		case magflow.ErrorCode(err) == magflow.ENotFound:
			auth.CheckNoUser(in.Body.Password)
			s.log.Warn("failed login", "username", in.Body.Username, "reason", "unknown user")
			return nil, problemOf(badLogin, s.log)
		case err != nil:
			return nil, problemOf(err, s.log)
		case !auth.CheckPassword(u.PasswordHash, in.Body.Password):
			s.log.Warn("failed login", "username", u.Username, "reason", "wrong password")
			return nil, problemOf(badLogin, s.log)
		case u.Disabled:
			s.log.Warn("failed login", "username", u.Username, "reason", "disabled")
			return nil, problemOf(&magflow.Error{Code: magflow.EUnauthorized, Message: "this user is disabled: ask an administrator"}, s.log)
		}
		s.log.Info("login", "username", u.Username, "role", u.Role)
		return s.tokens(u)
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "refresh", Method: http.MethodPost, Path: "/api/v1/auth/refresh", Tags: []string{"Auth"},
		Summary:     "Refresh the tokens",
		Description: "Exchange a valid refresh token for a new access and refresh token pair. Fails once the user is disabled or changed password.",
		Metadata:    map[string]any{metaPublic: true},
		Errors:      []int{400, 401, 429},
	}, func(ctx context.Context, in *RefreshInput) (*TokenOutput, error) {
		c, err := s.issuer.Verify(in.Body.RefreshToken, auth.KindRefresh)
		if err != nil {
			return nil, unauthorized(problemOf(err, s.log))
		}
		if _, err := s.checkUser(ctx, c); err != nil {
			return nil, unauthorized(problemOf(err, s.log))
		}
		u, err := s.db.GetUserByID(ctx, c.UserID())
		if err != nil {
			return nil, problemOf(err, s.log)
		}
		return s.tokens(u)
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "me", Method: http.MethodGet, Path: "/api/v1/auth/me", Tags: []string{"Auth"},
		Summary: "Who am I", Security: bearerAuth, Errors: []int{401},
	}, func(ctx context.Context, _ *struct{}) (*MeOutput, error) {
		p := PrincipalFrom(ctx)
		return &MeOutput{Body: User{Username: p.Username, Role: p.Role}}, nil
	})
}

var bearerAuth = []map[string][]string{{"bearer": {}}}

func (s *Server) tokens(u sqldb.User) (*TokenOutput, error) {
	t, err := s.issuer.Issue(auth.Subject{UserID: u.ID, Username: u.Username, Role: u.Role, PasswordHash: u.PasswordHash})
	if err != nil {
		return nil, problemOf(err, s.log)
	}
	out := &TokenOutput{CacheControl: "no-store"}
	out.Body.AccessToken, out.Body.TokenType = t.AccessToken, "Bearer"
	out.Body.ExpiresAt, out.Body.ExpiresIn = t.AccessExpiresAt, int(s.issuer.AccessTTL().Seconds())
	out.Body.RefreshToken, out.Body.RefreshExpiresAt = t.RefreshToken, t.RefreshExpiresAt
	out.Body.User = User{Username: u.Username, Role: u.Role}
	return out, nil
}
