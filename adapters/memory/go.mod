module github.com/chronicle-go/chronicle/adapters/memory

go 1.25.0

require (
	github.com/chronicle-go/chronicle/core v0.1.0
	github.com/google/uuid v1.6.0
	github.com/lib/pq v1.12.3
)
