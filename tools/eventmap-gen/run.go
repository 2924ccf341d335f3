package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/chronicle-go/chronicle/tools/eventmap-gen/eventmap"
)

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1 // generation failed, or -check found a stale file
	exitUsage = 2 // bad flags
)

// run is the command without the process: it parses args, does the work
// and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("eventmap-gen", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported on one line below
	var cfg eventmap.Config
	var check bool
	fs.StringVar(&cfg.Input, "input", "", "folder of the event structs, directly (version 1) or in v1, v2, … subfolders (required)")
	fs.StringVar(&cfg.Output, "output", ".", "folder of the generated file, outside -input; created when missing")
	fs.StringVar(&cfg.Filename, "filename", eventmap.DefaultFilename, "name of the generated file")
	fs.StringVar(&cfg.Package, "package", "", "package of the generated file (default: that of the Go files in -output, else its folder name)")
	fs.StringVar(&cfg.Module, "module", "", "module path of -input (default: read from the nearest go.mod)")
	fs.BoolVar(&check, "check", false, "write nothing; exit 1 with a diff summary when the file on disk is not what would be generated")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout, fs)
			return exitOK
		}
		fmt.Fprintf(stderr, "eventmap-gen: %v (see eventmap-gen -h)\n", err)
		return exitUsage
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "eventmap-gen: unexpected argument %q: every option is a flag (see eventmap-gen -h)\n", fs.Arg(0))
		return exitUsage
	case cfg.Input == "":
		fmt.Fprintln(stderr, "eventmap-gen: -input is required: the folder holding the event structs (see eventmap-gen -h)")
		return exitUsage
	}
	if check {
		err := eventmap.Check(cfg)
		var stale *eventmap.StaleError
		if errors.As(err, &stale) {
			fmt.Fprintf(stderr, "eventmap-gen: %v\n%s", err, stale.Diff)
			return exitError
		}
		if err != nil {
			fmt.Fprintf(stderr, "eventmap-gen: %v\n", err)
			return exitError
		}
		return exitOK
	}
	if _, err := eventmap.Write(cfg); err != nil {
		fmt.Fprintf(stderr, "eventmap-gen: %v\n", err)
		return exitError
	}
	return exitOK
}

func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, "usage: eventmap-gen -input <folder> [-output <folder>] [-filename <name>] [-package <name>] [-module <path>] [-check]")
	fmt.Fprintln(w, "\nGenerates the mapping between the event structs in -input and core.Event.")
	fmt.Fprintln(w, "\nFlags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}
