module github.com/chronicle-go/chronicle/adapters/postgres-pq

go 1.25.0

require (
	github.com/chronicle-go/chronicle/core v0.1.0
	github.com/chronicle-go/chronicle/internal/pgstore v0.1.0
	github.com/lib/pq v1.12.3
)

require github.com/google/uuid v1.6.0 // indirect
