module github.com/chronicle-go/chronicle/tools/chronicle

go 1.25.0

require (
	github.com/chromedp/chromedp v0.23.0
	github.com/chronicle-go/chronicle/adapters/postgres-pgx v0.1.0
	github.com/chronicle-go/chronicle/consumer v0.1.0
	github.com/chronicle-go/chronicle/core v0.1.0
	github.com/chronicle-go/chronicle/internal/pgtest v0.1.0
	github.com/google/uuid v1.6.0
	github.com/jackc/pgx/v5 v5.13.0
	golang.org/x/term v0.45.0
)

require (
	github.com/chromedp/cdproto v0.159.0 // indirect
	github.com/chronicle-go/chronicle/internal/pgstore v0.1.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.41.0 // indirect
)
