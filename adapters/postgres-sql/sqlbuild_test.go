package pgsql

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The SQL layer builds statements by concatenation, so a value reaching
// SQL text by accident would be an injection. These tests read the
// package's source and require that every piece concatenated into SQL (or
// written to a strings.Builder) is a string literal, a constant, a quoted
// identifier (QuoteIdentifier, Names.qualified), a placeholder number
// (strconv.Itoa), or a variable or local function built only from those.
// Data then can reach a statement only as a $n parameter.

// sqlLiteral recognises literals that are SQL text.
var sqlLiteral = regexp.MustCompile(`\b(SELECT|INSERT|UPDATE|DELETE|FROM|WHERE|LISTEN|GRANT|JOIN|VALUES|RETURNING|LIMIT)\b|\$\d|::`)

// templateRaw lists the schema template's values that are validated names
// used unquoted inside SQL string literals (where a validated identifier
// cannot end the literal) or are not text at all; every other value must
// be safe by the rules above.
var templateRaw = map[string]bool{
	"Schema": true, "EventsLiteral": true, "TriggerName": true, "TruncateName": true, "AppRoleLiteral": true,
	"Triggers": true, "HasAppRole": true, "LockKey": true,
}

func TestSQLIsBuiltFromLiteralsAndQuotedIdentifiersOnly(t *testing.T) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]*ast.File{}
	for _, e := range entries {
		if name := e.Name(); strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			if files[name], err = parser.ParseFile(fset, name, nil, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	checked := 0
	for _, problem := range sqlProblems(fset, files, &checked) {
		t.Error(problem)
	}
	if checked < 20 {
		t.Fatalf("only %d SQL expressions found: the check no longer sees the statements", checked)
	}
}

// TestSQLBuildCheckCatchesValues: the check flags raw names, formatted
// values and parameters concatenated into SQL.
func TestSQLBuildCheckCatchesValues(t *testing.T) {
	for _, src := range []string{
		`func f(n Names) string { return "SELECT * FROM " + n.EventsTable }`,
		`func f(id string) string { return "SELECT * FROM t WHERE id = '" + id + "'" }`,
		`func f(v int) string { return "SELECT * FROM t LIMIT " + fmt.Sprint(v) }`,
		`func f(id string) string { x := "'" + id + "'"; return "DELETE FROM t WHERE id = " + x }`,
		`func f(id string) string { var b strings.Builder; b.WriteString(id); return b.String() }`,
		`func f(id string) string { g := func(s string) string { return "SELECT " + s }; return g(id) }`,
		`func f(n Names) map[string]any { return map[string]any{"Events": n.EventsTable} }`,
	} {
		fset := token.NewFileSet()
		file, err := parser.ParseFile(fset, "x.go", "package pgsql\n"+src, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked := 0
		if len(sqlProblems(fset, map[string]*ast.File{"x.go": file}, &checked)) == 0 {
			t.Errorf("not flagged: %s", src)
		}
	}
}

// sqlProblems checks every function of files; checked counts the SQL
// expressions it looked at.
func sqlProblems(fset *token.FileSet, files map[string]*ast.File, checked *int) []string {
	consts := map[string]bool{}
	for _, f := range files {
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
				for _, s := range g.Specs {
					for _, n := range s.(*ast.ValueSpec).Names {
						consts[n.Name] = true
					}
				}
			}
		}
	}
	var problems []string
	for _, f := range files {
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			c := newSQLChecker(fn, consts)
			report := func(e ast.Expr, what string) {
				*checked++
				if !c.safe(e) {
					problems = append(problems, fset.Position(e.Pos()).String()+": "+what+" built from a value that is not a literal or a quoted identifier")
				}
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.BinaryExpr:
					if n.Op == token.ADD && c.mentionsSQL(n) {
						report(n, "SQL")
						return false // its operands are checked as part of it
					}
				case *ast.CallExpr:
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "WriteString" {
						for _, a := range n.Args {
							report(a, "SQL written to a builder")
						}
					}
				case *ast.CompositeLit:
					if m, ok := n.Type.(*ast.MapType); ok && isIdent(m.Key, "string") {
						for _, el := range n.Elts {
							kv := el.(*ast.KeyValueExpr)
							key, _ := strconv.Unquote(literalOf(kv.Key))
							if !templateRaw[key] {
								report(kv.Value, "template value "+key)
							}
						}
					}
				}
				return true
			})
		}
	}
	return problems
}

// sqlChecker knows one function's assignments and local functions.
type sqlChecker struct {
	consts map[string]bool
	// assigned holds every expression assigned to a local name.
	assigned map[string][]ast.Expr
	// params maps a local function literal's parameter to the arguments
	// of its calls.
	params map[string][]ast.Expr
	// funcs holds the local function literals by name.
	funcs    map[string]*ast.FuncLit
	visiting map[string]bool
}

func newSQLChecker(fn *ast.FuncDecl, consts map[string]bool) *sqlChecker {
	c := &sqlChecker{consts: consts, assigned: map[string][]ast.Expr{}, params: map[string][]ast.Expr{},
		funcs: map[string]*ast.FuncLit{}, visiting: map[string]bool{}}
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if len(n.Lhs) == len(n.Rhs) {
				for i, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						c.assigned[id.Name] = append(c.assigned[id.Name], n.Rhs[i])
						if lit, ok := n.Rhs[i].(*ast.FuncLit); ok {
							c.funcs[id.Name] = lit
						}
					}
				}
			} else {
				for _, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						c.assigned[id.Name] = append(c.assigned[id.Name], &ast.BadExpr{})
					}
				}
			}
		case *ast.ValueSpec:
			for i, id := range n.Names {
				if i < len(n.Values) {
					c.assigned[id.Name] = append(c.assigned[id.Name], n.Values[i])
				}
			}
		}
		return true
	})
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		id, ok := call.Fun.(*ast.Ident)
		if !ok || c.funcs[id.Name] == nil {
			return true
		}
		var names []string
		for _, f := range c.funcs[id.Name].Type.Params.List {
			for _, n := range f.Names {
				names = append(names, n.Name)
			}
		}
		for i, a := range call.Args {
			if i < len(names) {
				c.params[names[i]] = append(c.params[names[i]], a)
			}
		}
		return true
	})
	return c
}

// mentionsSQL reports whether a concatenation has a SQL literal among its
// operands.
func (c *sqlChecker) mentionsSQL(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.BinaryExpr:
		return e.Op == token.ADD && (c.mentionsSQL(e.X) || c.mentionsSQL(e.Y))
	case *ast.ParenExpr:
		return c.mentionsSQL(e.X)
	case *ast.BasicLit:
		s, _ := strconv.Unquote(e.Value)
		return sqlLiteral.MatchString(s)
	}
	return false
}

func (c *sqlChecker) safe(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return true
	case *ast.ParenExpr:
		return c.safe(e.X)
	case *ast.BinaryExpr:
		return e.Op == token.ADD && c.safe(e.X) && c.safe(e.Y)
	case *ast.Ident:
		return c.safeName(e.Name)
	case *ast.CallExpr:
		return c.safeCall(e)
	}
	return false
}

func (c *sqlChecker) safeName(name string) bool {
	if c.visiting[name] {
		return true // a cycle adds nothing unsafe
	}
	c.visiting[name] = true
	defer delete(c.visiting, name)
	if args, ok := c.params[name]; ok {
		return allSafe(c, args)
	}
	if exprs, ok := c.assigned[name]; ok {
		return allSafe(c, exprs)
	}
	return c.consts[name]
}

func (c *sqlChecker) safeCall(call *ast.CallExpr) bool {
	switch fun := call.Fun.(type) {
	case *ast.Ident:
		if fun.Name == "QuoteIdentifier" {
			return true
		}
		if exprs := c.assigned[fun.Name]; len(exprs) == 1 && isIdent(exprs[0], "QuoteIdentifier") {
			return true // an alias such as q := QuoteIdentifier
		}
		if lit := c.funcs[fun.Name]; lit != nil {
			safe := true
			ast.Inspect(lit.Body, func(n ast.Node) bool {
				if r, ok := n.(*ast.ReturnStmt); ok && !allSafe(c, r.Results) {
					safe = false
				}
				return true
			})
			return safe
		}
	case *ast.SelectorExpr:
		if fun.Sel.Name == "qualified" {
			return true
		}
		if isIdent(fun.X, "strconv") && fun.Sel.Name == "Itoa" {
			return true
		}
	}
	return false
}

func allSafe(c *sqlChecker, exprs []ast.Expr) bool {
	for _, e := range exprs {
		if !c.safe(e) {
			return false
		}
	}
	return true
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func literalOf(e ast.Expr) string {
	if l, ok := e.(*ast.BasicLit); ok {
		return l.Value
	}
	return ""
}
