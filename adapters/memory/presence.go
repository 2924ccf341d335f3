package memory

import (
	"context"
	"fmt"

	"github.com/chronicle-go/chronicle/core"
)

// presenceHold is one running HoldPresence call; lost is closed when
// EndPresence ends it.
type presenceHold struct {
	lost chan struct{}
}

// HoldPresence marks owner as present until ctx ends, as a PostgreSQL
// session holding the owner's shared advisory lock does (see
// core.ConsumerStore): it calls held once the presence is held, then
// blocks, and returns ctx's error when ctx ends, or ErrPresenceLost when
// EndPresence ended it. Several calls may hold one owner's presence at
// once. An owner core.ValidateOwner refuses is an
// *core.InvalidArgumentError.
func (s *Store) HoldPresence(ctx context.Context, owner string, held func()) error {
	if err := core.ValidateOwner(owner); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	h := &presenceHold{lost: make(chan struct{})}
	s.mu.Lock()
	if s.presence[owner] == nil {
		s.presence[owner] = map[*presenceHold]struct{}{}
	}
	s.presence[owner][h] = struct{}{}
	s.mu.Unlock()
	if held != nil {
		held()
	}
	select {
	case <-h.lost:
		return fmt.Errorf("error holding the presence of owner %q: %w", owner, ErrPresenceLost)
	case <-ctx.Done():
		s.mu.Lock()
		s.dropPresence(owner, h)
		s.mu.Unlock()
		return ctx.Err()
	}
}

// dropPresence removes h from owner's holders. Called with s.mu held.
func (s *Store) dropPresence(owner string, h *presenceHold) {
	delete(s.presence[owner], h)
	if len(s.presence[owner]) == 0 {
		delete(s.presence, owner)
	}
}

// EndPresence ends every HoldPresence call holding owner's presence, as a
// PostgreSQL session ends when its connection is lost (pg_terminate_backend):
// they return ErrPresenceLost, and owner is no longer present. It returns
// how many it ended. Tests use it to see what observers of a consumer
// runtime see when a process loses its connection.
func (s *Store) EndPresence(owner string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for h := range s.presence[owner] {
		close(h.lost)
		n++
	}
	delete(s.presence, owner)
	return n
}

// OwnersPresent reports for each of owners whether a HoldPresence call
// holds its presence now; see core.ConsumerStore. An empty owner is never
// present; an owner core.ValidateOwner refuses otherwise is an
// *core.InvalidArgumentError.
func (s *Store) OwnersPresent(ctx context.Context, tx *Tx, owners []string) ([]bool, error) {
	for _, o := range owners {
		if o == "" {
			continue
		}
		if err := core.ValidateOwner(o); err != nil {
			return nil, err
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.readable(ctx, tx); err != nil {
		return nil, fmt.Errorf("reading the owners' presence: %w", err)
	}
	out := make([]bool, len(owners))
	for i, o := range owners {
		out[i] = len(s.presence[o]) > 0
	}
	return out, nil
}
