module github.com/chronicle-go/chronicle/examples

go 1.25.0

require (
	github.com/chronicle-go/chronicle/adapters/memory v0.1.0
	github.com/chronicle-go/chronicle/adapters/postgres-pgx v0.1.0
	github.com/chronicle-go/chronicle/adapters/postgres-pq v0.1.0
	github.com/chronicle-go/chronicle/consumer v0.1.0
	github.com/chronicle-go/chronicle/core v0.1.0
	github.com/chronicle-go/chronicle/internal/pgtest v0.1.0
	github.com/google/uuid v1.6.0
	github.com/jackc/pgx/v5 v5.13.0
	github.com/lib/pq v1.12.3
	go.uber.org/zap v1.28.0
	go.uber.org/zap/exp v0.3.0
)

require (
	github.com/chronicle-go/chronicle/internal/pgstore v0.1.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	go.uber.org/multierr v1.10.0 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/text v0.41.0 // indirect
)
