package memory

import "context"

// Listen calls wake once at once, in case events were committed before it
// listened, and then after every commit that appended events, until ctx
// ends; it returns ctx's error then. See core.ConsumerStore. wake runs on
// Listen's goroutine, never concurrently with itself; commits made while it
// runs share one further call. Listen starts no goroutine.
func (s *Store) Listen(ctx context.Context, wake func()) error {
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	s.listeners[ch] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ch)
		s.mu.Unlock()
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	wake()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
			wake()
		}
	}
}

// notifyListeners signals every Listen call. Called with s.mu held.
func (s *Store) notifyListeners() {
	for ch := range s.listeners {
		select {
		case ch <- struct{}{}:
		default: // a wakeup is pending already
		}
	}
}
