module github.com/chronicle-go/chronicle/tools/migrate-gen

go 1.25.0

require github.com/chronicle-go/chronicle/internal/pgstore v0.1.0

require (
	github.com/chronicle-go/chronicle/core v0.1.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
)
