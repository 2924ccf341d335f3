module github.com/chronicle-go/chronicle/adapters/postgres-sql

go 1.26

