module github.com/chronicle-go/chronicle/tools/eventmap-gen

go 1.25.0
