package integration_test

import (
	"sync"
	"testing"

	"github.com/chronicle-go/chronicle/internal/pgstore"
)

// Several processes starting at once may all run the schema: the script
// serialises itself (when run as one transaction, as Exec of the whole text
// does), so none of them fails on a half-created object.
func TestSchemaRunsConcurrently(t *testing.T) {
	pool := newPool(t, 0, 8)
	ctx := testContext(t)
	for range 3 {
		names := newNames()
		ddl, err := pgstore.SchemaSQL(names, pgstore.SchemaOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := pool.Exec(ctx, ddl); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent schema run: %v", err)
		}
	}
}
