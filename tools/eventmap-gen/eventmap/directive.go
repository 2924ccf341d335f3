package eventmap

import (
	"fmt"
	"go/ast"
	"go/token"
	"strings"
)

const directivePrefix = "//chronicle:"

// directive is a parsed //chronicle:event comment.
type directive struct {
	found  bool
	name   string // name=…, or ""
	ignore bool
}

func isDirective(comment string) bool { return strings.HasPrefix(comment, directivePrefix) }

// parseDirective reads the //chronicle:event directive of a type's doc
// comment. Misspelt directives and options are errors rather than being
// ignored, since ignoring one would silently change stored event types.
func parseDirective(fset *token.FileSet, doc *ast.CommentGroup) (directive, error) {
	var d directive
	if doc == nil {
		return d, nil
	}
	for _, c := range doc.List {
		if !isDirective(c.Text) {
			continue
		}
		pos := position(fset, c.Slash)
		rest, ok := strings.CutPrefix(c.Text, "//chronicle:event")
		if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
			return d, fmt.Errorf("%s: unknown directive %s: the only directive is //chronicle:event", pos, strings.Fields(c.Text)[0])
		}
		if d.found {
			return d, fmt.Errorf("%s: a second //chronicle:event directive for one type: put all options in one", pos)
		}
		d.found = true
		opts := strings.Fields(rest)
		if len(opts) == 0 {
			return d, fmt.Errorf("%s: empty //chronicle:event directive: want name=<EventType> or ignore", pos)
		}
		for _, opt := range opts {
			switch value, isName := strings.CutPrefix(opt, "name="); {
			case opt == "ignore":
				d.ignore = true
			case isName && d.name != "":
				return d, fmt.Errorf("%s: name= given twice in //chronicle:event", pos)
			case isName:
				if !validEventType(value) {
					return d, fmt.Errorf("%s: event type %q is not valid: want 1 to 200 letters, digits or _ . : / -, starting with a letter or digit", pos, value)
				}
				d.name = value
			default:
				return d, fmt.Errorf("%s: unknown //chronicle:event option %q: want name=<EventType> or ignore", pos, opt)
			}
		}
		if d.ignore && d.name != "" {
			return d, fmt.Errorf("%s: //chronicle:event has both ignore and name=: an ignored struct has no event type", pos)
		}
	}
	return d, nil
}

// validEventType reports whether s may be an event type. The set is small
// on purpose: such names appear in SQL consoles, logs and URLs.
func validEventType(s string) bool {
	if len(s) == 0 || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || !strings.ContainsRune("_.:/-", rune(c))) {
			return false
		}
	}
	return true
}
