module github.com/chronicle-go/chronicle/adapters/zaplog

go 1.25.0

require go.uber.org/zap v1.28.0

require go.uber.org/multierr v1.10.0 // indirect
