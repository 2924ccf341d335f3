package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chronicle-go/chronicle/internal/pgstore"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s (run go test -update to create it): %v", path, err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run go test -update after checking the change):\n%s", path, got)
	}
}

func TestGolden(t *testing.T) {
	cases := []struct {
		golden string
		args   []string
	}{
		{"default.golden", nil},
		{"custom.golden", []string{"-schema", "Billing", "-events-table", "ledger_events", "-aggregate-heads-table", "ledger_heads",
			"-checkpoints-table", "ledger_cursors", "-order-offset-table", "ledger_order"}},
		{"no_trigger.golden", []string{"-no-append-only-trigger"}},
		{"app_role.golden", []string{"-schema", "es", "-app-role", "chronicle_app"}},
		{"long_names.golden", []string{"-events-table", strings.Repeat("e", 63)}},
	}
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(append(c.args, "-stdout"), &stdout, &stderr); code != 0 {
				t.Fatalf("exit status %d: %s", code, stderr.String())
			}
			golden(t, c.golden, stdout.String())

			// Deterministic: a second run gives the same bytes.
			var again bytes.Buffer
			run(append(c.args, "-stdout"), &again, &stderr)
			if again.String() != stdout.String() {
				t.Error("two runs with the same flags differ")
			}
		})
	}
}

// goldenDir compares the files under dir with testdata/formats/name, or
// rewrites that folder under -update.
func goldenDir(t *testing.T, name, dir string) {
	t.Helper()
	want := filepath.Join("testdata", "formats", name)
	got := readTree(t, dir)
	if *update {
		if err := os.RemoveAll(want); err != nil {
			t.Fatal(err)
		}
		for rel, content := range got {
			path := filepath.Join(want, rel)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	if _, err := os.Stat(want); err != nil {
		t.Fatalf("reading %s (run go test -update to create it): %v", want, err)
	}
	wantTree := readTree(t, want)
	for rel, content := range got {
		if w, ok := wantTree[rel]; !ok {
			t.Errorf("%s: not in %s (run go test -update after checking the change)", rel, want)
		} else if w != content {
			t.Errorf("%s differs from %s (run go test -update after checking the change):\n%s", rel, filepath.Join(want, rel), content)
		}
	}
	for rel := range wantTree {
		if _, ok := got[rel]; !ok {
			t.Errorf("%s: in %s but not written", rel, want)
		}
	}
}

// readTree returns every file under dir by its slash-separated path.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	tree := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		tree[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// generate runs migrate-gen with args and -output dir, and returns the
// paths it printed.
func generate(t *testing.T, dir string, args ...string) []string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(append([]string{"-output", dir}, args...), &stdout, &stderr); code != 0 {
		t.Fatalf("migrate-gen %s: exit status %d: %s", strings.Join(args, " "), code, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("stderr %q, want nothing", stderr.String())
	}
	return strings.Fields(stdout.String())
}

func TestFormatsGolden(t *testing.T) {
	cases := []struct {
		golden string
		args   []string
	}{
		{"sql", nil}, // the default format
		{"golang-migrate", []string{"-format", "golang-migrate"}},
		{"goose", []string{"-format", "goose"}},
		{"atlas", []string{"-format", "atlas"}},
		{"goose_custom", []string{"-format", "goose", "-schema", "Billing", "-events-table", "ledger_events",
			"-aggregate-heads-table", "ledger_heads", "-checkpoints-table", "ledger_cursors", "-order-offset-table", "ledger_order",
			"-no-append-only-trigger", "-app-role", "billing_app"}},
	}
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "db", "chronicle") // created if missing
			paths := generate(t, dir, c.args...)
			goldenDir(t, c.golden, dir)

			tree := readTree(t, dir)
			if len(paths) != len(tree) {
				t.Errorf("printed %d paths for %d files: %q", len(paths), len(tree), paths)
			}
			for _, p := range paths {
				rel, err := filepath.Rel(dir, p)
				if _, ok := tree[filepath.ToSlash(rel)]; err != nil || !ok {
					t.Errorf("printed %q, not a written file", p)
				}
			}
			for rel, content := range tree {
				if rel != atlasSumFile && !strings.HasPrefix(content, header) {
					t.Errorf("%s does not start with the generated-code line", rel)
				}
			}

			// Deterministic, and a second run in the same folder (go
			// generate again) rewrites the same files, leaving no
			// temporary ones.
			generate(t, dir, c.args...)
			again := readTree(t, dir)
			if len(again) != len(tree) {
				t.Errorf("second run: %d files, want %d", len(again), len(tree))
			}
			for rel, content := range tree {
				if again[rel] != content {
					t.Errorf("second run changed %s", rel)
				}
			}
		})
	}
}

// The whole schema as one idempotent file, as earlier releases wrote it:
// -filename.
func TestFilename(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "migrations", "nested")
	for range 2 { // rewriting an existing file (go:generate runs again)
		paths := generate(t, dir, "-filename", "0001_chronicle.sql")
		if want := filepath.Join(dir, "0001_chronicle.sql"); len(paths) != 1 || paths[0] != want {
			t.Errorf("printed %q, want the written path %q", paths, want)
		}
	}
	tree := readTree(t, dir)
	if len(tree) != 1 {
		t.Errorf("directory holds %d files, want 1 (no temporary files left)", len(tree))
	}
	golden(t, "default.golden", tree["0001_chronicle.sql"])
}

// A migration that cannot be reverted gets a down script that fails; the
// next migration's files follow the first's.
func TestRenderFormatIrreversible(t *testing.T) {
	ms := []pgstore.Migration{
		{Version: 1, Name: "init", Up: "SELECT 1;\n", Down: "SELECT -1;\n"},
		{Version: 2, Name: "snapshot_cursor", Up: "SELECT 2;\n\n\n"},
	}
	refuse := "DO $chronicle$ BEGIN RAISE EXCEPTION 'chronicle: migration 0002_snapshot_cursor cannot be reverted'; END $chronicle$;\n"
	for _, c := range []struct {
		format string
		names  []string
		down   string // the file holding migration 2's down script
	}{
		{formatSQL, []string{"0001_chronicle_init.sql", "down/0001_chronicle_init.sql",
			"0002_chronicle_snapshot_cursor.sql", "down/0002_chronicle_snapshot_cursor.sql"}, "down/0002_chronicle_snapshot_cursor.sql"},
		{formatGolangMigrate, []string{"0001_chronicle_init.up.sql", "0001_chronicle_init.down.sql",
			"0002_chronicle_snapshot_cursor.up.sql", "0002_chronicle_snapshot_cursor.down.sql"}, "0002_chronicle_snapshot_cursor.down.sql"},
		{formatGoose, []string{"0001_chronicle_init.sql", "0002_chronicle_snapshot_cursor.sql"}, "0002_chronicle_snapshot_cursor.sql"},
		{formatAtlas, []string{"0001_chronicle_init.sql", "0002_chronicle_snapshot_cursor.sql", "atlas.sum"}, ""},
	} {
		t.Run(c.format, func(t *testing.T) {
			files := renderFormat(c.format, ms)
			var names []string
			byName := map[string]string{}
			for _, f := range files {
				names = append(names, f.name)
				byName[f.name] = f.content
			}
			if got, want := strings.Join(names, " "), strings.Join(c.names, " "); got != want {
				t.Fatalf("files %s, want %s", got, want)
			}
			if c.down != "" && !strings.Contains(byName[c.down], refuse) {
				t.Errorf("%s does not refuse to revert:\n%s", c.down, byName[c.down])
			}
			if strings.Contains(byName[names[len(names)-1]], "SELECT 2;\n\n") {
				t.Error("an up script keeps its trailing blank lines")
			}
		})
	}
	goose := renderFormat(formatGoose, ms)[0].content
	want := header + "\n-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n-- +goose StatementEnd\n\n" +
		"-- +goose Down\n-- +goose StatementBegin\nSELECT -1;\n-- +goose StatementEnd\n"
	if goose != want {
		t.Errorf("goose file:\n%s\nwant:\n%s", goose, want)
	}
}

// atlasSum against a value computed independently (sha256sum and base64
// in a shell, as Atlas's algorithm describes), including a file that
// Atlas's "atlas:sum ignore" directive leaves out. The integration tests
// compare it with Atlas's own package.
func TestAtlasSum(t *testing.T) {
	got := atlasSum([]file{
		{"3_c.sql", "SELECT 3;\n"},
		{"1_a.sql", "SELECT 1;\n"},
		{"2_i.sql", "-- atlas:sum ignore\nSELECT 2;\n"},
		{"down/1_a.sql", "not a migration"},
		{"notes.txt", "not a migration"},
	})
	// printf '1_a.sqlSELECT 1;\n' | openssl dgst -sha256 -binary | base64, and so on.
	const want = "h1:Ortg7kcRLY9feYKuG/s6UUY9wudIUh2X7YkLQvqEhtA=\n" +
		"1_a.sql h1:oHx7vmeRbxB72kdSGUkFhE08red3y82zeqcbzCxkGjo=\n" +
		"3_c.sql h1:Y92TUuDDifpzla59Rz547kEtY3kFwBIJMoS3wJ3Zk+c=\n"
	if got != want {
		t.Errorf("atlas.sum:\n%s\nwant:\n%s", got, want)
	}
}

// An application migration of the same version as one of Chronicle's is an
// error; other files are left alone, and Atlas's sum covers them.
func TestOutputDirectory(t *testing.T) {
	for _, c := range []struct {
		format, existing string
	}{
		{formatSQL, "0001_create_users.sql"},
		{formatGoose, "1_create_users.sql"},
		{formatGolangMigrate, "000001_create_users.up.sql"},
		{formatAtlas, "0001_users.sql"},
		{formatGoose, "0001_chronicle_init.up.sql"}, // golang-migrate's output, then -format goose
	} {
		t.Run(c.format+" "+c.existing, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, c.existing), []byte("CREATE TABLE users ();\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			if code := run([]string{"-output", dir, "-format", c.format}, &stdout, &stderr); code != 2 {
				t.Errorf("exit status %d, want 2", code)
			}
			msg := stderr.String()
			if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, c.existing) || !strings.Contains(msg, "folder of their own") {
				t.Errorf("stderr %q, want one line naming %s", msg, c.existing)
			}
			if tree := readTree(t, dir); len(tree) != 1 {
				t.Errorf("%d files in the folder, want the 1 there before", len(tree))
			}
		})
	}

	dir := t.TempDir()
	other := "-- atlas:sum ignore\nSELECT 1;\n"
	for name, content := range map[string]string{"20250101000000_users.sql": "CREATE TABLE users ();\n",
		"0000_seed.sql": other, "README.md": "not SQL", "0001_readme.txt": "not SQL"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	generate(t, dir, "-format", "atlas")
	tree := readTree(t, dir)
	var files []file
	for name, content := range tree {
		files = append(files, file{name, content})
	}
	if got, want := tree[atlasSumFile], atlasSum(files); got != want {
		t.Errorf("atlas.sum over the folder's migrations:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(tree[atlasSumFile], "20250101000000_users.sql h1:") || strings.Contains(tree[atlasSumFile], "0000_seed.sql") {
		t.Errorf("atlas.sum does not list the application's migration, or lists an ignored one:\n%s", tree[atlasSumFile])
	}
}

// Bad flags and names: one line naming the flag on stderr, exit status 2,
// nothing written.
func TestRejects(t *testing.T) {
	cases := []struct {
		args []string
		flag string
	}{
		{[]string{"-events-table", "events; DROP TABLE x"}, "-events-table"},
		{[]string{"-aggregate-heads-table", `heads"`}, "-aggregate-heads-table"},
		{[]string{"-checkpoints-table", strings.Repeat("c", 64)}, "-checkpoints-table"},
		{[]string{"-order-offset-table", "ordre_décalage"}, "-order-offset-table"},
		{[]string{"-schema", "1app"}, "-schema"},
		{[]string{"-app-role", `app"; DROP TABLE events; --`}, "-app-role"},
		{[]string{"-app-role", "app' OR '1'='1"}, "-app-role"},
		{[]string{"-app-role", "app role"}, "-app-role"},
		{[]string{"-schema", `es"; GRANT ALL ON events TO public; --`}, "-schema"},
		{[]string{"-events-table", "$1"}, "-events-table"},
		{[]string{"-events-table", ""}, "-events-table"},
		{[]string{"-checkpoints-table", "events"}, "-checkpoints-table"},
		{[]string{"-filename", "../escape.sql"}, "-filename"},
		{[]string{"-format", "flyway"}, "-format"},
		{[]string{"-format", ""}, "-format"},
		{[]string{"-format", "goose", "-stdout"}, "-stdout"},
		{[]string{"-format", "sql", "-filename", "0001_chronicle.sql"}, "-filename"},
		{[]string{"-format", "atlas", "-events-table", "bad name"}, "-events-table"},
		{[]string{"-bogus"}, "-bogus"},
		{[]string{"-stdout=maybe"}, "-stdout"},
		{[]string{"positional"}, "positional"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			dir := t.TempDir()
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"-output", dir}, c.args...), &stdout, &stderr)
			if code != 2 {
				t.Errorf("exit status %d, want 2", code)
			}
			msg := stderr.String()
			if strings.Count(msg, "\n") != 1 || !strings.HasSuffix(msg, "\n") || !strings.Contains(msg, c.flag) {
				t.Errorf("stderr %q, want one line naming %s", msg, c.flag)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("%d file(s) written", len(entries))
			}
		})
	}
}

func TestHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-help"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	for _, f := range []string{"-format", "golang-migrate", "goose", "atlas", "-output", "-filename", "-stdout", "-schema", "-events-table", "-aggregate-heads-table",
		"-checkpoints-table", "-order-offset-table", "-no-append-only-trigger", "-app-role"} {
		if !strings.Contains(stderr.String(), f[1:]) {
			t.Errorf("help does not mention %s", f)
		}
	}
}
