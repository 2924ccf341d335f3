module github.com/chronicle-go/chronicle/adapters/memory

go 1.26
