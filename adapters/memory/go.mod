module github.com/chronicle-go/chronicle/adapters/memory

go 1.26

require (
	github.com/google/uuid v1.6.0
	github.com/lib/pq v1.12.3
)
