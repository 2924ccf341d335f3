package statuspage_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/chronicle-go/chronicle/adapters/memory"
	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/consumer/statuspage"
	"github.com/chronicle-go/chronicle/core"
)

type totals struct{}

func (totals) Name() string                                                  { return "order-totals" }
func (totals) Handle(context.Context, *memory.Tx, core.PersistedEvent) error { return nil }

// An application's server with the processor's probes and the status page
// mounted under /chronicle/.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	consumers := memory.NewStore() // postgres.NewConsumerStore(pool, store) in production
	processor, err := consumer.NewProcessor[*memory.Tx](consumers, []consumer.Consumer[*memory.Tx]{totals{}}, consumer.Config{})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/livez", consumer.LivenessHandler(processor))
	mux.Handle("/readyz", consumer.ReadinessHandler(processor))
	page, err := statuspage.New(consumer.NewOperations(consumers), statuspage.Config{}) // or the *Processor
	if err != nil {
		panic(err)
	}
	go func() { _ = page.Run(ctx) }() // optional: sample in the background, so the chart covers the time before anyone looks
	mux.Handle("/chronicle/", http.StripPrefix("/chronicle", page))

	for _, path := range []string{"/readyz", "/chronicle/"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		fmt.Println(path, rec.Code, strings.Contains(rec.Body.String(), `id="lag-chart"`))
	}
	// Output:
	// /readyz 503 false
	// /chronicle/ 200 true
}
