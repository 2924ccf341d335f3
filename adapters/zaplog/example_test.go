package zaplog_test

import (
	"context"

	"go.uber.org/zap"

	"github.com/chronicle-go/chronicle/adapters/zaplog"
	"github.com/chronicle-go/chronicle/core"
)

// Key-value pairs become zap fields. zap.NewExample writes JSON without
// timestamps, so the output is reproducible; an application passes its own
// logger.
func ExampleNew() {
	logger := zap.NewExample()
	defer logger.Sync()

	var log core.Logger = zaplog.New(logger)
	log.Debug(context.Background(), "chronicle: appended events", "aggregate_id", "order-42", "count", 2)
	log.Error(context.Background(), "consumer handler failed; batch rolled back", "consumer", "order-totals", "attempt", 1)
	// Output:
	// {"level":"debug","msg":"chronicle: appended events","aggregate_id":"order-42","count":2}
	// {"level":"error","msg":"consumer handler failed; batch rolled back","consumer":"order-totals","attempt":1}
}
