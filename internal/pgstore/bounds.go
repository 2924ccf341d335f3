package pgstore

import (
	"math"

	"github.com/chronicle-go/chronicle/core"
)

// versionRange validates ReadAggregateStream's optional bounds
// (core.ValidateVersionBounds) and returns them as the inclusive range
// sql/read_stream.sql takes: an unset bound is 1 or math.MaxInt64.
func versionRange(fromVersion, toVersion *int64) (from, to int64, err error) {
	if err := core.ValidateVersionBounds(fromVersion, toVersion); err != nil {
		return 0, 0, err
	}
	from, to = 1, math.MaxInt64
	if fromVersion != nil {
		from = *fromVersion
	}
	if toVersion != nil {
		to = *toVersion
	}
	return from, to, nil
}
