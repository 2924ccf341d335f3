package pgtest_test

import (
	"context"
	"log"

	"github.com/chronicle-go/chronicle/internal/pgtest"
)

// A program of its own — a demo, a benchmark — finds a server the way the
// tests do, makes a database and cleans up after itself. Close stops a
// cluster that Find started and leaves a running server alone. (A test
// binary uses TestDatabase in its TestMain instead.)
func ExampleFind() {
	ctx := context.Background()
	server, err := pgtest.Find(ctx, log.Printf)
	if err != nil {
		log.Fatal(err) // wraps pgtest.ErrNoServer and says why each way failed
	}
	defer func() {
		if err := server.Close(); err != nil {
			log.Print(err)
		}
	}()
	url, err := server.CreateDatabase(ctx, "myapp_demo")
	if err != nil {
		log.Print(err)
		return
	}
	defer func() {
		if err := server.DropDatabase(context.WithoutCancel(ctx), "myapp_demo"); err != nil {
			log.Print(err)
		}
	}()
	log.Println("PostgreSQL from", server.Source, "at", url)
}
