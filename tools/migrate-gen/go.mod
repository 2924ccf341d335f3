module github.com/chronicle-go/chronicle/tools/migrate-gen

go 1.26
