module github.com/chronicle-go/chronicle/adapters/postgres-sql

go 1.25.0

require github.com/google/uuid v1.6.0
