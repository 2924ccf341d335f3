package eventmap_test

import (
	"fmt"
	"log"
	"regexp"
	"strings"

	"github.com/chronicle-go/chronicle/tools/eventmap-gen/eventmap"
)

// Generate reads the version folders and returns the mapping file; here,
// a summary of its exported functions. Write (or the eventmap-gen command)
// also writes it, and Check compares it with the file on disk.
func ExampleGenerate() {
	src, err := eventmap.Generate(eventmap.Config{
		Input:   "testdata/fixture/events",
		Output:  "testdata/fixture/userevents",
		Package: "userevents",
	})
	if err != nil {
		log.Fatal(err)
	}
	perStruct := regexp.MustCompile(`^(To|From)[A-Z]\w*V\d+$`)
	options, conversions := 0, 0
	for _, m := range regexp.MustCompile(`(?m)^func ([A-Z]\w*)`).FindAllSubmatch(src, -1) {
		switch name := string(m[1]); {
		case perStruct.MatchString(name):
			conversions++
		case strings.HasPrefix(name, "With"):
			options++
		default:
			fmt.Println(name)
		}
	}
	fmt.Println(options, "options and", conversions, "per-struct conversions")
	// Output:
	// EventTypeOf
	// ToESEvents
	// FromESEvent
	// OpenESEvent
	// FromESEvents
	// FromESEventsLatest
	// 7 options and 14 per-struct conversions
}
