package core

import (
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// MaxPartitions is the most partitions a consumer may declare. Every
// partition is a checkpoint row and a batch statement per poll, so a count
// far above the processes that will ever run the consumer only costs.
const MaxPartitions = 256

// Partition is one part of a partitioned consumer: the events whose
// aggregate PartitionOf assigns to Index of Count. The zero value (Count 0)
// is the whole log.
type Partition struct {
	// Index is the partition's number, 0 <= Index < Count.
	Index int
	// Count is how many partitions the consumer has; 0: not partitioned.
	Count int
}

// Partitioned reports whether p is a part of the log rather than all of it.
func (p Partition) Partitioned() bool { return p.Count > 0 }

// Validate returns an *InvalidArgumentError unless p is the zero value or
// 0 <= Index < Count <= MaxPartitions.
func (p Partition) Validate() error {
	switch {
	case p.Count == 0 && p.Index == 0:
		return nil
	case p.Count < 1 || p.Count > MaxPartitions:
		return &InvalidArgumentError{Argument: "partition", Reason: fmt.Sprintf("the partition count must be between 1 and %d, got %d", MaxPartitions, p.Count)}
	case p.Index < 0 || p.Index >= p.Count:
		return &InvalidArgumentError{Argument: "partition", Reason: fmt.Sprintf("the partition index must be between 0 and %d (of %d partitions), got %d", p.Count-1, p.Count, p.Index)}
	}
	return nil
}

// Contains reports whether p holds the events of the given aggregate.
func (p Partition) Contains(aggregateType, aggregateID string) bool {
	return !p.Partitioned() || PartitionOf(aggregateType, aggregateID, p.Count) == p.Index
}

// String is "3/8" for Index 3 of Count 8, "all" for the zero value.
func (p Partition) String() string {
	if !p.Partitioned() {
		return "all"
	}
	return strconv.Itoa(p.Index) + "/" + strconv.Itoa(p.Count)
}

// PartitionOf returns the partition, of count, that holds an aggregate's
// events: the first four bytes of the MD5 digest of the aggregate's key,
// read as a big-endian unsigned integer, modulo count. The key is the
// decimal byte length of aggregateType, a colon, aggregateType and
// aggregateID, all UTF-8: "5:orderA-17" for type "order" and id "A-17"
// (the length keeps ("ab", "c") and ("a", "bc") apart).
//
// The function is part of the stored format: it is the same on every
// platform and in every version, and the PostgreSQL stores compute it in
// SQL as
//
//	('x' || substr(md5(octet_length(aggregate_type)::text || ':' || aggregate_type || aggregate_id), 1, 8))::bit(32)::bigint % count
//
// on a UTF-8 database. count < 1 returns 0.
func PartitionOf(aggregateType, aggregateID string, count int) int {
	if count < 1 {
		return 0
	}
	h := md5.New()
	var length [20]byte
	h.Write(strconv.AppendInt(length[:0], int64(len(aggregateType)), 10))
	h.Write([]byte{':'})
	h.Write([]byte(aggregateType))
	h.Write([]byte(aggregateID))
	var sum [md5.Size]byte
	return int(uint64(binary.BigEndian.Uint32(h.Sum(sum[:0]))) % uint64(count))
}

// PartitionCheckpointName returns the checkpoint name of partition p of a
// consumer: "orders[3/8]" for partition 3 of 8 of "orders", the consumer
// name itself for the zero Partition. Each partition is a checkpoint of its
// own: its lease and its cursor.
func PartitionCheckpointName(consumer string, p Partition) string {
	if !p.Partitioned() {
		return consumer
	}
	return consumer + "[" + p.String() + "]"
}

// ParsePartitionCheckpointName splits a checkpoint name made by
// PartitionCheckpointName into the consumer and its partition. ok is false
// for the name of an unpartitioned consumer (consumer is then name).
func ParsePartitionCheckpointName(name string) (consumer string, p Partition, ok bool) {
	if !strings.HasSuffix(name, "]") {
		return name, Partition{}, false
	}
	open := strings.LastIndexByte(name, '[')
	if open <= 0 {
		return name, Partition{}, false
	}
	index, count, found := strings.Cut(name[open+1:len(name)-1], "/")
	if !found {
		return name, Partition{}, false
	}
	i, err1 := strconv.Atoi(index)
	n, err2 := strconv.Atoi(count)
	p = Partition{Index: i, Count: n}
	// Only the canonical spelling is a partition ("[03/8]" is not), so that
	// a name maps to one checkpoint.
	if err1 != nil || err2 != nil || !p.Partitioned() || p.Validate() != nil || name[open+1:len(name)-1] != p.String() {
		return name, Partition{}, false
	}
	return name[:open], p, true
}

// ConsumerScope selects the events a consumer's batches and lag see: its
// aggregate types and its partition. The zero value is every event.
type ConsumerScope struct {
	// AggregateTypes, when non-empty, keeps only events of these types.
	AggregateTypes []string
	// Partition, when partitioned, keeps only the events of its aggregates
	// (PartitionOf).
	Partition Partition
}

// Validate returns an *InvalidArgumentError for a bad partition.
func (s ConsumerScope) Validate() error { return s.Partition.Validate() }

// Contains reports whether the scope holds the events of the aggregate.
func (s ConsumerScope) Contains(aggregateType, aggregateID string) bool {
	if len(s.AggregateTypes) > 0 {
		found := false
		for _, t := range s.AggregateTypes {
			if t == aggregateType {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return s.Partition.Contains(aggregateType, aggregateID)
}

// Filtered reports whether the scope keeps fewer than every event.
func (s ConsumerScope) Filtered() bool { return len(s.AggregateTypes) > 0 || s.Partition.Partitioned() }
