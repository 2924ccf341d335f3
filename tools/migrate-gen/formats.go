package main

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/chronicle-go/chronicle/internal/pgstore"
)

// The -format values, in the order -help lists them.
const (
	formatSQL           = "sql"
	formatGolangMigrate = "golang-migrate"
	formatGoose         = "goose"
	formatAtlas         = "atlas"
)

var formatNames = []string{formatSQL, formatGolangMigrate, formatGoose, formatAtlas}

// atlasSumFile is the integrity file Atlas keeps next to the migrations.
const atlasSumFile = "atlas.sum"

// file is one file to write: a path relative to -output (slash-separated)
// and its content.
type file struct {
	name    string
	content string
}

// stem is a migration's file name stem: NNNN_chronicle_name. The word
// "chronicle" keeps the names apart from the application's own migrations.
func stem(m pgstore.Migration) string {
	return fmt.Sprintf("%04d_chronicle_%s", m.Version, m.Name)
}

// renderFormat returns the files of format for migrations, in the order to
// write them. For atlas the list ends with atlas.sum, computed over the
// migrations alone; run recomputes it when -output holds other migrations.
func renderFormat(format string, migrations []pgstore.Migration) []file {
	var files []file
	for _, m := range migrations {
		up, down := body(m.Up), downBody(m)
		switch format {
		case formatSQL:
			files = append(files,
				file{stem(m) + ".sql", header + up},
				file{"down/" + stem(m) + ".sql", header + down})
		case formatGolangMigrate:
			files = append(files,
				file{stem(m) + ".up.sql", header + up},
				file{stem(m) + ".down.sql", header + down})
		case formatGoose:
			// Each section is one statement for goose (StatementBegin/End):
			// the script holds semicolons inside dollar-quoted blocks, which
			// goose's own splitting cannot parse. goose runs the section in
			// one transaction, as the script's advisory lock wants.
			files = append(files, file{stem(m) + ".sql", header + "\n" +
				"-- +goose Up\n-- +goose StatementBegin\n" + up + "-- +goose StatementEnd\n\n" +
				"-- +goose Down\n-- +goose StatementBegin\n" + down + "-- +goose StatementEnd\n"})
		case formatAtlas:
			// Atlas plans reverts itself (atlas migrate down): up files only.
			files = append(files, file{stem(m) + ".sql", header + up})
		default:
			panic("migrate-gen: unknown format " + format) // run validates -format first
		}
	}
	if format == formatAtlas {
		files = append(files, file{atlasSumFile, atlasSum(files)})
	}
	return files
}

// body is a script with exactly one final newline.
func body(s string) string { return strings.TrimRight(s, "\n") + "\n" }

// downBody is m's down script, or, for a migration that cannot be
// reverted, a script that fails saying so: a tool that runs it stops
// there instead of recording a revert that did not happen.
func downBody(m pgstore.Migration) string {
	if m.Down != "" {
		return body(m.Down)
	}
	return fmt.Sprintf("-- Chronicle migration %[1]s cannot be reverted: restore a backup taken before it.\n"+
		"DO $chronicle$ BEGIN RAISE EXCEPTION 'chronicle: migration %[1]s cannot be reverted'; END $chronicle$;\n", m.ID())
}

// atlasSum is the content of atlas.sum for the .sql files among files,
// computed as Atlas's migrate.NewHashFile and HashFile.MarshalText do
// (ariga.io/atlas/sql/migrate, dir.go): the files sorted by name (as
// LocalDir.Files sorts them); one running SHA-256 over each file's name
// then its bytes, whose digest after each file is that file's hash; the
// first line is the SHA-256 of every name and hash in turn. Hashes are
// standard base64, prefixed "h1:". A file whose first line holds the
// directive "atlas:sum ignore" adds its name to the running hash and has
// no line of its own; Chronicle's files never hold it.
func atlasSum(files []file) string {
	var sqlFiles []file
	for _, f := range files {
		if strings.HasSuffix(f.name, ".sql") && !strings.Contains(f.name, "/") {
			sqlFiles = append(sqlFiles, f)
		}
	}
	sort.Slice(sqlFiles, func(i, j int) bool { return sqlFiles[i].name < sqlFiles[j].name })
	running, total := sha256.New(), sha256.New()
	var lines strings.Builder
	for _, f := range sqlFiles {
		running.Write([]byte(f.name))
		if m := atlasDirective.FindStringSubmatch(f.content); m != nil && m[2] == "sum" && m[3] == "ignore" {
			continue
		}
		running.Write([]byte(f.content))
		h := base64.StdEncoding.EncodeToString(running.Sum(nil))
		total.Write([]byte(f.name))
		total.Write([]byte(h))
		fmt.Fprintf(&lines, "%s h1:%s\n", f.name, h)
	}
	return "h1:" + base64.StdEncoding.EncodeToString(total.Sum(nil)) + "\n" + lines.String()
}

// atlasDirective is Atlas's reDirective (sql/migrate/dir.go): matched
// against a file's whole content, it reads the first line only.
var atlasDirective = regexp.MustCompile(`^([ -~]*)atlas:(\w+)(?: +([ -~]*))*`)

// migrationVersion is the version a migration tool reads from a file name:
// the decimal number before the first "_" (goose, golang-migrate and Atlas
// all start there), and false for a name without one.
func migrationVersion(name string) (int64, bool) {
	digits, _, ok := strings.Cut(name, "_")
	if !ok || digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	return v, err == nil
}
