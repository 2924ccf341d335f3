package statuspage

import (
	"bytes"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"time"
)

var (
	//go:embed page.html.tmpl
	pageTemplate string
	//go:embed page.css
	pageCSS string
	//go:embed page.js
	pageJS string
)

// page renders the view. html/template escapes everything in it for its
// context; the script and the style are ours, embedded, and run under a
// per-response nonce.
var page = template.Must(template.New("page").Parse(pageTemplate))

// pageData is the template's input.
type pageData struct {
	View  view
	Nonce string
	CSS   template.CSS
	JS    template.JS
}

// ServeHTTP serves the page (GET or HEAD) at whatever path the Page is
// mounted on; with the query format=json, the same view as JSON, which the
// page fetches every Interval. Other methods get 405 Method Not Allowed:
// nothing here changes anything.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "the status page is read-only: GET or HEAD", http.StatusMethodNotAllowed)
		return
	}
	p.fresh(r.Context())
	v := p.view(time.Now())
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if r.URL.Query().Get("format") == "json" {
		h.Set("Content-Type", "application/json")
		if r.Method == http.MethodHead {
			return
		}
		_ = json.NewEncoder(w).Encode(v)
		return
	}
	nonce := newNonce()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; style-src 'nonce-"+nonce+"'; "+
		"connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	var b bytes.Buffer
	// The script and style are constants of this package, not data.
	if err := page.Execute(&b, pageData{View: v, Nonce: nonce, CSS: template.CSS(pageCSS), JS: template.JS(pageJS)}); err != nil { //nolint:gosec // embedded constants
		http.Error(w, "rendering the status page failed", http.StatusInternalServerError)
		return
	}
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(b.Bytes())
}

// newNonce returns a fresh random nonce for the Content-Security-Policy.
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
