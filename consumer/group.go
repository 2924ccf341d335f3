package consumer

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

// PartitionedConsumer is a Consumer whose events are split into
// Partitions() partitions by aggregate (core.PartitionOf of the event's
// aggregate type and id), so that the processes running it share the work:
// a consumer group.
//
// Each partition is a checkpoint of its own, named
// core.PartitionCheckpointName ("orders[3/8]"): its lease and its cursor.
// An aggregate's events all fall in one partition and arrive in version
// order; events of different partitions are handled independently, in any
// order. Within one process the partitions a consumer holds are handled one
// batch at a time (Handle is never called concurrently for one consumer),
// so a handler-bound consumer scales with processes.
//
// The processes balance the partitions among themselves, with no
// coordinator: every PollInterval each applies one rule. A partition
// belongs to the owner its checkpoint names (Config.Owner, unique per
// process) while that owner is present (its processor holds its presence:
// core.ConsumerStore.HoldPresence); the members are those present owners
// and the process itself; with N partitions and M members a member's share
// is N/M rounded up. A process takes over partitions without a present
// owner while it holds fewer than its share, and one from the member
// holding the most while that member holds two or more than it does, until
// it holds N/M rounded down. A takeover writes the new owner into the
// checkpoint, under the partition's lease; the old owner's next batch sees
// it and gives the partition up. So the partitions of a process that stops
// or dies are taken over within a PollInterval, and none holds more than
// its share once the others have looked.
//
// Partitions must be between 1 and core.MaxPartitions and must not change
// for an existing consumer: Run refuses a count other than the stored one
// with ErrPartitionsChanged. To change it, run the consumer under a new
// name (a new version catching up beside the old one; see WaitCaughtUp)
// and delete the old one's checkpoints once the application reads the new
// read model.
type PartitionedConsumer[TX any] interface {
	Consumer[TX]
	Partitions() int
}

// Partitioned returns c as a PartitionedConsumer of n partitions. It keeps
// c's aggregate types when c is a ScopedConsumer. A nil c gives nil, which
// NewProcessor refuses like any nil consumer; a bad n is NewProcessor's
// *ConfigError too.
func Partitioned[TX any](c Consumer[TX], n int) PartitionedConsumer[TX] {
	if c == nil {
		return nil
	}
	if s, ok := c.(ScopedConsumer[TX]); ok {
		return scopedPartitioned[TX]{partitioned[TX]{c, n}, s}
	}
	return partitioned[TX]{c, n}
}

type partitioned[TX any] struct {
	Consumer[TX]
	n int
}

func (p partitioned[TX]) Partitions() int { return p.n }

type scopedPartitioned[TX any] struct {
	partitioned[TX]
	scoped ScopedConsumer[TX]
}

func (p scopedPartitioned[TX]) AggregateTypes() []string { return p.scoped.AggregateTypes() }

// partitionsOf returns c's partition count, 0 when c is not partitioned.
func partitionsOf[TX any](c Consumer[TX]) (int, error) {
	pc, ok := c.(PartitionedConsumer[TX])
	if !ok {
		return 0, nil
	}
	n := pc.Partitions()
	if n < 1 || n > core.MaxPartitions {
		return 0, fmt.Errorf("Partitions() is %d; it must be between 1 and %d", n, core.MaxPartitions)
	}
	return n, nil
}

// ErrPartitionsChanged is returned by Run when a consumer's declared
// partitions differ from its stored checkpoints': a partitioned consumer
// declared with another count, or a consumer that gained or lost its
// partitions. Running it would hand events to partitions whose cursors
// did not see them, and reorder or repeat them. Detail:
// *PartitionsChangedError.
var ErrPartitionsChanged = errors.New("consumer partitions changed")

// PartitionsChangedError is the detail of ErrPartitionsChanged.
type PartitionsChangedError struct {
	// Consumer is the consumer's name.
	Consumer string
	// Declared is the count the consumer declares now, Stored the one its
	// checkpoints hold (0: not partitioned).
	Declared, Stored int
}

// Error names the consumer, both counts and the way to change them.
func (e *PartitionsChangedError) Error() string {
	return fmt.Sprintf("consumer %q declares %s but its checkpoints hold %s: a consumer's partitions cannot change in place; "+
		"run it under a new name that catches up from the start (see Processor.WaitCaughtUp), then delete the old checkpoints "+
		"(Operations.Delete or `chronicle delete`)", e.Consumer, partitionsText(e.Declared), partitionsText(e.Stored))
}

// Is reports whether target is ErrPartitionsChanged.
func (e *PartitionsChangedError) Is(target error) bool { return target == ErrPartitionsChanged }

func partitionsText(n int) string {
	if n == 0 {
		return "no partitions"
	}
	return fmt.Sprintf("%d partitions", n)
}

// group is one consumer of a Processor: its loops (one, or one per
// partition) run on one goroutine, a batch at a time.
type group[TX any] struct {
	name       string
	partitions int // 0: not partitioned
	loops      []*loop[TX]
	wake       chan struct{}
	// next is the loop round-robin scheduling looks at first.
	next int
	// balanceAt is when the partitions are to be balanced next.
	balanceAt time.Time

	// mu guards committed, closed when a batch of the group commits and
	// then replaced: WaitCaughtUp waits on it.
	mu        sync.Mutex
	committed chan struct{}
}

// begin resets the group at the start of a Run: an unpartitioned
// consumer's loop is always this process's to run; partitions are until
// balancing has assigned them.
func (g *group[TX]) begin() {
	now := time.Now()
	g.balanceAt = now
	for _, l := range g.loops {
		l.health.begin()
		l.due, l.backoff, l.stopped, l.unrecorded = now, false, false, 0
		l.owned = g.partitions == 0
		if !l.owned {
			l.health.setAssignment(false, "")
		}
	}
}

// batchCommitted signals WaitCaughtUp that a batch of the group committed.
func (g *group[TX]) batchCommitted() {
	g.mu.Lock()
	if g.committed != nil {
		close(g.committed)
		g.committed = nil
	}
	g.mu.Unlock()
}

// committedSignal returns a channel closed at the group's next committed
// batch.
func (g *group[TX]) committedSignal() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.committed == nil {
		g.committed = make(chan struct{})
	}
	return g.committed
}

// takenOver reports whether cp, the checkpoint of one of this process's
// partitions, names another owner: balancing in another process took the
// partition over (its takeover wrote its owner; this process's batches
// write this one's). An unpartitioned consumer's batches run wherever the
// lease is free.
func (l *loop[TX]) takenOver(cp core.Checkpoint, self string) bool {
	return l.scope.Partition.Partitioned() && cp.Owner != "" && cp.Owner != self
}

// runGroup runs g's loops until ctx ends or all of them stopped: the next
// due loop this process owns, round robin, one batch at a time; and every
// PollInterval, for a partitioned consumer, the balancing. It returns an
// error only for a failure that must stop the whole processor.
func (p *Processor[TX]) runGroup(ctx, batchCtx context.Context, g *group[TX], started time.Time) error {
	defer func() {
		for _, l := range g.loops {
			p.dropCarried(ctx, l)
		}
	}()
	for ctx.Err() == nil {
		now := time.Now()
		if g.partitions > 0 && !now.Before(g.balanceAt) {
			next := p.cfg.PollInterval
			if !p.balance(ctx, g) {
				// The presence is not held yet (the start of a Run) or
				// was lost: look again soon rather than a poll later.
				next = min(next, presenceRetry)
			}
			g.balanceAt = time.Now().Add(next)
			continue
		}
		l, wait, running := g.pick(now)
		if !running {
			return nil
		}
		if l == nil {
			if g.partitions > 0 && g.balanceAt.Before(now.Add(wait)) {
				wait = g.balanceAt.Sub(now)
			}
			p.waitGroup(ctx, g, wait)
			continue
		}
		if err := p.step(ctx, batchCtx, l, started); err != nil {
			return err
		}
	}
	return nil
}

// pick returns the next loop due now, starting after the last one picked,
// or nil and how long until the first is due. running is false when every
// loop has stopped.
func (g *group[TX]) pick(now time.Time) (l *loop[TX], wait time.Duration, running bool) {
	wait = -1
	n := len(g.loops)
	for i := range n {
		c := g.loops[(g.next+i)%n]
		if c.stopped {
			continue
		}
		running = true
		if !c.owned {
			continue
		}
		if !c.due.After(now) {
			g.next = (g.next + i + 1) % n
			return c, 0, true
		}
		if d := c.due.Sub(now); wait < 0 || d < wait {
			wait = d
		}
	}
	if wait < 0 {
		wait = time.Hour // nothing owned: balancing (or ctx) ends the wait
	}
	return nil, wait, running || g.partitions > 0 && !g.allStopped()
}

func (g *group[TX]) allStopped() bool {
	for _, l := range g.loops {
		if !l.stopped {
			return false
		}
	}
	return true
}

// waitGroup waits d, or until a wakeup — which opens a window of quick
// polls and makes every loop not in backoff due at once — or ctx ends.
func (p *Processor[TX]) waitGroup(ctx context.Context, g *group[TX], d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-g.wake:
		now := time.Now()
		for _, l := range g.loops {
			l.fastUntil, l.fastDelay = now.Add(fastWindow), fastFirst
			if !l.backoff {
				l.due = now
			}
		}
	case <-t.C:
	}
}

// balance assigns g's partitions among the processes running g. The rule,
// applied by every process on its own every PollInterval (no
// coordinator): a partition belongs to the owner its checkpoint names
// while that owner is present (core.ConsumerStore.OwnersPresent); the
// members are the present owners of g's partitions and this process; with
// N partitions and M members each member's share is N/M rounded up. This
// process takes over partitions without a present owner while it holds
// fewer than its share, and one from the member holding the most while
// that member holds at least two more than it does, until it holds N/M
// rounded down. A takeover writes this process as the owner (a batch of
// the old owner then sees it and gives the partition up); nothing else
// writes. So the partitions of a process that stops or dies (its presence
// ends with its session) are taken over within one PollInterval, and no
// process holds more than its share once the others have looked.
//
// A process takes nothing while it does not hold its own presence: the
// others would count its partitions as free. balance reports whether it
// looked (false: the presence is not held).
func (p *Processor[TX]) balance(ctx context.Context, g *group[TX]) bool {
	if !p.state.isPresent() {
		return false
	}
	self := p.cfg.Owner
	var (
		stored  = make([]core.Checkpoint, g.partitions) // by partition; zero: no row
		present = map[string]bool{}
		changed *PartitionsChangedError
	)
	err := inTx(ctx, p.store, func(tx TX) error {
		cps, _, err := p.store.Checkpoints(ctx, tx)
		if err != nil {
			return err
		}
		var owners []string
		for _, cp := range cps {
			if err := g.layout(cp.ConsumerName); err != nil {
				changed = err
				return nil
			}
			name, part, ok := core.ParsePartitionCheckpointName(cp.ConsumerName)
			if !ok || name != g.name {
				continue
			}
			stored[part.Index] = cp
			if cp.Owner != "" && !slices.Contains(owners, cp.Owner) {
				owners = append(owners, cp.Owner)
			}
		}
		here, err := p.store.OwnersPresent(ctx, tx, owners)
		if err != nil {
			return err
		}
		for i, o := range owners {
			present[o] = here[i]
		}
		return nil
	})
	if err != nil {
		if ctx.Err() == nil {
			p.cfg.Logger.ErrorContext(ctx, "balancing the partitions failed; keeping the current ones", "consumer", g.name, "error", err)
		}
		return true
	}
	if changed != nil {
		p.cfg.Logger.ErrorContext(ctx, "stopping the consumer: its partitions changed", "consumer", g.name, "error", changed)
		for _, l := range g.loops {
			l.stopped = true
			l.health.stop(changed.Error())
		}
		return true
	}
	ownerOf := func(i int) string { // "" when free
		if o := stored[i].Owner; present[o] || o == self {
			return o
		}
		return ""
	}
	count := map[string]int{self: 0}
	for i, l := range g.loops {
		switch o := ownerOf(i); {
		case o == self:
			l.owned = true
		case o != "":
			if l.owned {
				p.cfg.Logger.InfoContext(ctx, "partition taken over by another process", "consumer", l.name, "owner", o)
			}
			l.owned = false
			l.health.setAssignment(false, o)
		}
		if l.owned {
			count[self]++
		} else if o := ownerOf(i); o != "" {
			count[o]++
		}
	}
	members := len(count)
	ceil, floor := (g.partitions+members-1)/members, g.partitions/members
	// Free partitions, from a point of this owner's own, so that processes
	// taking over at once mostly try different ones.
	start := int(ownerHash(self) % uint32(g.partitions))
	for k := range g.partitions {
		if count[self] >= ceil {
			break
		}
		i := (start + k) % g.partitions
		if l := g.loops[i]; !l.owned && ownerOf(i) == "" && p.takeOver(ctx, l, stored[i].Owner) {
			count[self]++
		}
	}
	for count[self] < floor {
		victim, most := "", 0
		for o, n := range count {
			if o != self && (n > most || n == most && o < victim) {
				victim, most = o, n
			}
		}
		if victim == "" || most < count[self]+2 {
			break
		}
		took := false
		for i := g.partitions - 1; i >= 0; i-- {
			if ownerOf(i) == victim && !g.loops[i].owned {
				if took = p.takeOver(ctx, g.loops[i], victim); took {
					break
				}
			}
		}
		if !took {
			break // its batches hold the leases: the next round tries again
		}
		count[self]++
		count[victim]--
	}
	return true
}

// presenceRetry is how soon balancing looks again while the processor's
// presence is not held.
const presenceRetry = 20 * time.Millisecond

// takeOver makes l's partition this process's: it writes this owner into
// the checkpoint if the checkpoint still names was (the owner balancing
// saw) and no batch holds its lease. It reports whether it did.
func (p *Processor[TX]) takeOver(ctx context.Context, l *loop[TX], was string) bool {
	took := false
	err := inTx(ctx, p.store, func(tx TX) error {
		cp, claimed, err := p.store.ClaimCheckpoint(ctx, tx, l.name)
		if err != nil || !claimed || (cp.Owner != was && cp.Owner != p.cfg.Owner) {
			return err
		}
		cp.ConsumerName, cp.Owner = l.name, p.cfg.Owner
		if err := p.store.SaveCheckpoint(ctx, tx, cp); err != nil {
			return err
		}
		took = true
		return nil
	})
	if err != nil {
		took = false
		if ctx.Err() == nil {
			p.cfg.Logger.ErrorContext(ctx, "taking over a partition failed", "consumer", l.name, "error", err)
		}
	}
	if took {
		p.cfg.Logger.InfoContext(ctx, "partition taken over", "consumer", l.name, "from", was)
		l.owned, l.hasNext, l.due, l.backoff = true, false, time.Now(), false
		l.health.setAssignment(true, "")
	}
	return took
}

// ownerHash spreads owners over the partitions for the first one each
// tries.
func ownerHash(owner string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(owner))
	return h.Sum32()
}

// layout returns a *PartitionsChangedError when the checkpoint name
// belongs to g under another partition count, nil otherwise.
func (g *group[TX]) layout(checkpoint string) *PartitionsChangedError {
	name, part, ok := core.ParsePartitionCheckpointName(checkpoint)
	switch {
	case ok && name == g.name && part.Count != g.partitions:
		return &PartitionsChangedError{Consumer: g.name, Declared: g.partitions, Stored: part.Count}
	case !ok && checkpoint == g.name && g.partitions > 0:
		return &PartitionsChangedError{Consumer: g.name, Declared: g.partitions, Stored: 0}
	}
	return nil
}

// caughtUpPoll bounds how long WaitCaughtUp goes without looking, for the
// partitions other processes run.
const caughtUpPoll = 100 * time.Millisecond

// WaitCaughtUp returns nil once consumer — every partition of it, in
// whichever process runs it — has delivered every event committed before
// the call, or ctx's error when ctx ends first. It is how an application
// switches to a rebuilt read model: run the new version beside the live
// one, wait until it has caught up, then read from it. It looks after each
// batch this processor commits for the consumer and at least every 100ms.
// A consumer not given to NewProcessor is an *core.InvalidArgumentError.
// It works while Run runs here or elsewhere; it needs no Run of its own.
func (p *Processor[TX]) WaitCaughtUp(ctx context.Context, consumer string) error {
	if p == nil {
		return &core.InvalidArgumentError{Argument: "processor", Reason: "WaitCaughtUp called on a nil *Processor; create it with NewProcessor"}
	}
	var g *group[TX]
	for _, c := range p.groups {
		if c.name == consumer {
			g = c
		}
	}
	if g == nil {
		return &core.InvalidArgumentError{Argument: "consumer", Reason: fmt.Sprintf("%q is not one of the processor's consumers", consumer)}
	}
	var target core.Snapshot
	if err := inTx(ctx, p.store, func(tx TX) (err error) {
		target, err = p.store.CurrentSnapshot(ctx, tx)
		return err
	}); err != nil {
		return fmt.Errorf("error waiting for consumer %q to catch up: %w", consumer, err)
	}
	for {
		signal := g.committedSignal()
		caught, err := p.caughtUp(ctx, g, target)
		if err != nil {
			return fmt.Errorf("error waiting for consumer %q to catch up: %w", consumer, err)
		}
		if caught {
			return nil
		}
		t := time.NewTimer(caughtUpPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-signal:
		case <-t.C:
		}
		t.Stop()
	}
}

// caughtUp reports whether every checkpoint of g has delivered every event
// visible in target: its stored cursor has moved past target, or nothing
// in its scope is left to deliver (an idle partition saves its cursor only
// now and then).
func (p *Processor[TX]) caughtUp(ctx context.Context, g *group[TX], target core.Snapshot) (caught bool, err error) {
	err = inTx(ctx, p.store, func(tx TX) error {
		cps, _, err := p.store.Checkpoints(ctx, tx)
		if err != nil {
			return err
		}
		stored := make(map[string]core.Cursor, len(cps))
		for _, cp := range cps {
			stored[cp.ConsumerName] = cp.Cursor
		}
		for _, l := range g.loops {
			at, ok := stored[l.name]
			if ok && !at.Paging() && at.Snapshot.Contains(target) {
				continue
			}
			lag, err := p.store.Lag(ctx, tx, at, l.scope)
			if err != nil {
				return err
			}
			if lag.Events > 0 {
				return nil
			}
		}
		caught = true
		return nil
	})
	return caught, err
}
