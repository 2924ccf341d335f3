module github.com/chronicle-go/chronicle/tools/chronicle

go 1.25.0

require (
	github.com/google/uuid v1.6.0
	github.com/jackc/pgx/v5 v5.13.0
)
