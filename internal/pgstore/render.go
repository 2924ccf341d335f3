package pgstore

import (
	"embed"
	"strings"
	"text/template"
)

// The statements live in sql/*.sql as text/template files, so that a
// reviewer reads SQL rather than Go that builds it. Their markers
// ({{.Events}}, {{.Heads}}, …) are filled only with values of type quoted —
// identifiers that passed ValidateIdentifier and were then double-quoted —
// and with booleans that pick a variant; the type of every field of the
// data structs is checked in a test. Data travels as $n parameters, each
// cast where it is used so that pgx's simple protocol (which infers no
// types) works too. testdata/golden holds every rendered statement.
//
//go:embed sql/*.sql sql/migrations/*.sql
var sqlFiles embed.FS

// templates are the statements (sql/*.sql) and the schema's migrations
// (sql/migrations/*.sql), each named by its file name.
var (
	templates          = template.Must(template.New("").Option("missingkey=error").ParseFS(sqlFiles, "sql/*.sql"))
	migrationTemplates = template.Must(template.New("").Option("missingkey=error").ParseFS(sqlFiles, "sql/migrations/*.sql"))
)

// quoted is an identifier that passed ValidateIdentifier and was then
// double-quoted (and schema-qualified where it names a table): the only
// kind of text the templates take.
type quoted string

// render executes the template file name with data. A fixed template that
// fails to execute is a programming error, caught by every test.
func render(name string, data any) string {
	set := templates
	if _, ok := data.(schemaData); ok {
		set = migrationTemplates
	}
	var b strings.Builder
	if err := set.ExecuteTemplate(&b, name, data); err != nil {
		panic("pgstore: template " + name + ": " + err.Error())
	}
	return b.String()
}

// renderStatement is render without the leading comment block, which
// documents the statement for readers of the .sql file and need not travel
// to the server with every call, and without the final newline.
func renderStatement(name string, data any) string {
	s := render(name, data)
	for strings.HasPrefix(s, "--") {
		_, s, _ = strings.Cut(s, "\n")
	}
	return strings.TrimSuffix(s, "\n")
}
