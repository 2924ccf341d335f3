module github.com/chronicle-go/chronicle/adapters/postgres-pq

go 1.25.0

require (
	github.com/google/uuid v1.6.0
	github.com/lib/pq v1.12.3
)
