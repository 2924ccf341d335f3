module github.com/chronicle-go/chronicle/consumer

go 1.25.0

require (
	github.com/google/uuid v1.6.0
	go.uber.org/goleak v1.3.0
)
