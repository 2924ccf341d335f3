package integration_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chronicle-go/chronicle/core"
	"github.com/jackc/pgx/v5"
)

// BenchmarkAppend measures one append of a batch, committed, per driver
// configuration: the cost of the array encodings (pgx's binary arrays,
// database/sql's text-array literals and packed payloads) next to the
// round trip and the commit.
//
//	go test -run '^$' -bench Append -benchtime 200x ./integration
func BenchmarkAppend(b *testing.B) {
	for _, size := range []int{1, 100} {
		b.Run(fmt.Sprintf("pgx/events=%d", size), func(b *testing.B) {
			benchAppend(b, pgxRig(b, newPool(b, 0, 2)), size)
		})
		b.Run(fmt.Sprintf("pgx-simple-protocol/events=%d", size), func(b *testing.B) {
			benchAppend(b, pgxRig(b, newPool(b, pgx.QueryExecModeSimpleProtocol, 2)), size)
		})
		b.Run(fmt.Sprintf("database-sql-lib-pq/events=%d", size), func(b *testing.B) {
			benchAppend(b, sqlRig(b, openDB(b, "postgres")), size)
		})
		b.Run(fmt.Sprintf("database-sql-pgx-stdlib/events=%d", size), func(b *testing.B) {
			benchAppend(b, sqlRig(b, openDB(b, "pgx")), size)
		})
	}
}

func benchAppend[TX any](b *testing.B, r rig[TX], size int) {
	ctx := context.Background()
	batches := make([][]core.Event, b.N)
	for i := range batches {
		batches[i] = newEvents("Bench", size)
		for j := range batches[i] {
			batches[i][j].Payload = make([]byte, 512)
			batches[i][j].Metadata = []byte(`{"user":"u-1","tenant":"t-1"}`)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		tx, err := r.begin(ctx, false)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.store.Append(ctx, tx, core.Any(), batches[i]); err != nil {
			b.Fatal(err)
		}
		if err := r.commit(ctx, tx); err != nil {
			b.Fatal(err)
		}
	}
}
