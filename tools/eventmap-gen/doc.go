// Command eventmap-gen generates the mapping between a domain's event
// structs and Chronicle's core.Event and core.PersistedEvent: see package
// github.com/chronicle-go/chronicle/tools/eventmap-gen/eventmap for the
// input it reads and the code it writes. Typical use, from the package that
// is to hold the generated file:
//
//	//go:generate go run github.com/chronicle-go/chronicle/tools/eventmap-gen -input ../domain/user/events -output .
//
// With -check it writes nothing and exits with status 1, printing a summary
// of the differences, when the file on disk is not what it would generate:
// for CI. Bad flags exit with status 2, other errors with status 1, each
// with a one-line message on standard error.
package main
