// Package web is the MagFlow dashboard: a dependency-free single-page
// application (HTML, CSS and ES modules, no build step) embedded in the
// binary and served by `magflow serve` at / and /assets/. It has no back end
// of its own: the page logs in with POST /api/v1/auth/login and reads
// everything through the REST API of internal/httpapi with the same JWT.
//
// The only thing the server adds to the page is its version: the page is
// public, so everything about the configured accounts (their names,
// platforms and rate limits) comes from GET /api/v1/emag/enhanced/accounts
// once a user has logged in.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var static embed.FS

// csp holds the page to its own origin: no inline script, no remote asset.
const csp = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; " +
	"font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Options configure Handler.
type Options struct {
	// Version is shown in the page footer. It is all the public page tells
	// of the server.
	Version string
}

type asset struct {
	body  []byte
	etag  string
	ctype string
}

// Handler serves the dashboard: GET / (the page) and GET /assets/... (its
// scripts, styles and icon). Any other path answers 404.
func Handler(opts Options) http.Handler {
	cfg, err := json.Marshal(struct {
		Version string `json:"version"`
	}{opts.Version})
	if err != nil {
		panic("web: encode the page configuration: " + err.Error()) // a plain string always encodes
	}
	page, err := renderIndex(string(cfg))
	if err != nil {
		panic("web: " + err.Error()) // the embedded template is checked by the tests
	}
	assets := map[string]asset{"/": newAsset(page, "text/html; charset=utf-8")}
	err = fs.WalkDir(static, "static/assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		assets[strings.TrimPrefix(p, "static")] = newAsset(b, contentType(p))
		return nil
	})
	if err != nil {
		panic("web: read the embedded assets: " + err.Error())
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := assets[r.URL.Path]
		if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			notFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.ctype)
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		// Revalidate every time: the files change with the binary, and a
		// 304 costs one round trip on loopback or a LAN.
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", a.etag)
		if match := r.Header.Get("If-None-Match"); match != "" && match == a.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if r.Method == http.MethodHead {
			return
		}
		w.Write(a.body)
	})
}

// notFound answers like the API does, with an RFC 9457 problem.
func notFound(w http.ResponseWriter, r *http.Request) {
	b, _ := json.Marshal(map[string]any{"type": "about:blank", "title": "Not Found", "status": http.StatusNotFound, "code": "not_found",
		"detail": fmt.Sprintf("no page %s %s: the dashboard is at / and the API under /api/v1 (see /docs)", r.Method, r.URL.Path)})
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNotFound)
	w.Write(append(b, '\n'))
}

func newAsset(b []byte, ctype string) asset {
	sum := sha256.Sum256(b)
	return asset{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ctype: ctype}
}

func contentType(p string) string {
	switch path.Ext(p) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	}
	return "application/octet-stream"
}

// renderIndex puts the configuration into the page as a JSON data block
// (not a script: the CSP forbids inline scripts, and data blocks do not run).
func renderIndex(cfg string) ([]byte, error) {
	t, err := template.ParseFS(static, "static/index.html")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, template.JS(cfg)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
