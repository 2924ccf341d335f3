module github.com/chronicle-go/chronicle/consumer

go 1.25.0

require (
	github.com/chronicle-go/chronicle/adapters/memory v0.1.0
	github.com/chronicle-go/chronicle/core v0.1.0
	github.com/google/uuid v1.6.0
	go.uber.org/goleak v1.3.0
)
