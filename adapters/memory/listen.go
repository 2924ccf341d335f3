package memory

import "context"

// listener is one running Listen call: the writers of the commits it has
// not reported yet, and a signal that there are some.
type listener struct {
	// pending is guarded by the store's mu.
	pending []int64
	signal  chan struct{}
}

// Listen calls wake once at once with nil writers, in case events were
// committed before it listened, and then after commits that appended
// events, with the committing transactions' ids (order offset applied),
// until ctx ends; it returns ctx's error then. See core.ConsumerStore.
// wake runs on Listen's goroutine, never concurrently with itself; the
// commits made while it runs are reported together in its next call. The
// memory store wakes only after a commit, never before it. Listen starts
// no goroutine.
func (s *Store) Listen(ctx context.Context, wake func(writers []int64)) error {
	l := &listener{signal: make(chan struct{}, 1)}
	s.mu.Lock()
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	wake(nil)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.signal:
			s.mu.Lock()
			writers := l.pending
			l.pending = nil
			s.mu.Unlock()
			if len(writers) > 0 {
				wake(writers)
			}
		}
	}
}

// notifyListeners tells every Listen call that writer committed events.
// Called with s.mu held.
func (s *Store) notifyListeners(writer int64) {
	for l := range s.listeners {
		l.pending = append(l.pending, writer)
		select {
		case l.signal <- struct{}{}:
		default: // a wakeup is pending already
		}
	}
}
