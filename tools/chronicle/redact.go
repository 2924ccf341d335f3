package main

import (
	"net/url"
	"regexp"
	"strings"
)

// Passwords as they appear in connection strings: in a URL's user info,
// as a URL query parameter, and as a key=value setting (quoted or not; an
// unquoted one ends at white space or &, so that a URL's next parameter
// stays). The password of the connection string in use is also removed
// wherever it appears, whole (see redact).
var (
	urlPassword      = regexp.MustCompile(`(://[^:/@\s]*:)[^@\s]*@`)
	keywordPassword  = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)`)
	queryPassword    = regexp.MustCompile(`(?i)([?&]password=)[^&\s]*`)
	redactedPassword = "xxxxx"
)

// redact removes from msg the password of dsn (a URL or a key=value
// connection string) wherever it appears, in any of the forms drivers
// quote it, and any password written in a connection string inside msg.
// A driver's error may echo the connection string it failed to parse.
func redact(msg, dsn string) string {
	for _, p := range passwordsOf(dsn) {
		for _, form := range []string{p, url.QueryEscape(p), url.PathEscape(p), url.UserPassword("", p).String()[1:]} {
			if len(form) >= 2 {
				msg = strings.ReplaceAll(msg, form, redactedPassword)
			}
		}
	}
	msg = urlPassword.ReplaceAllString(msg, "${1}"+redactedPassword+"@")
	msg = queryPassword.ReplaceAllString(msg, "${1}"+redactedPassword)
	return keywordPassword.ReplaceAllString(msg, "${1}"+redactedPassword)
}

// passwordsOf returns the passwords dsn holds.
func passwordsOf(dsn string) []string {
	var out []string
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			out = append(out, p)
		}
		if p := u.Query().Get("password"); p != "" {
			out = append(out, p)
		}
	}
	for _, m := range keywordPassword.FindAllStringSubmatch(dsn, -1) {
		p := strings.Trim(m[2], "'")
		if p != "" {
			out = append(out, p)
		}
	}
	if m := urlPassword.FindStringSubmatch(dsn); m != nil {
		// A URL too broken for url.Parse still shows its password.
		if i := strings.LastIndex(dsn, "@"); i > len(m[1]) {
			start := strings.Index(dsn, m[1]) + len(m[1])
			if start < i {
				out = append(out, dsn[start:i])
			}
		}
	}
	return out
}
