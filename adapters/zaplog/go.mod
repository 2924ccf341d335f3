module github.com/chronicle-go/chronicle/adapters/zaplog

go 1.25.0

require (
	github.com/chronicle-go/chronicle/core v0.1.0
	go.uber.org/zap v1.28.0
)

require (
	github.com/google/uuid v1.6.0 // indirect
	go.uber.org/multierr v1.10.0 // indirect
)
