package httpapi

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"

	"github.com/go-chi/chi/v5"
)

// docsUI is the /docs page: a small login shell around Swagger UI 5
// (swagger-ui-dist, Apache 2.0, see docsui/LICENSE), embedded so that nothing
// loads from a CDN. A Content-Security-Policy holds the page to its own
// origin.
//
//go:embed docsui
var docsUI embed.FS

const docsCSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"

func (s *Server) registerDocs(r chi.Router) {
	sub, _ := fs.Sub(docsUI, "docsui")
	files := http.StripPrefix("/docs/", http.FileServerFS(sub))
	index, _ := fs.ReadFile(sub, "index.html")
	serveIndex := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", docsCSP)
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(index)
	}
	r.Get("/docs", serveIndex)
	r.Get("/docs/", serveIndex)
	r.Get("/docs/*", func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Security-Policy", docsCSP)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, req)
	})
}

// serveOpenAPI serves the OpenAPI 3.1 document (authenticated).
func (s *Server) serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	b, err := s.spec()
	if err != nil {
		writeProblem(w, problemOf(err, s.log))
		return
	}
	w.Header().Set("Content-Type", "application/openapi+json")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

func (s *Server) spec() ([]byte, error) {
	s.specMu.Lock()
	defer s.specMu.Unlock()
	if s.specJSON == nil {
		b, err := json.Marshal(s.api.OpenAPI())
		if err != nil {
			return nil, err
		}
		s.specJSON = b
	}
	return s.specJSON, nil
}
