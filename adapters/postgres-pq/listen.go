package postgres

import (
	"context"
	"errors"
	"time"

	pgsql "github.com/chronicle-go/chronicle/adapters/postgres-sql"
	"github.com/chronicle-go/chronicle/core"
	"github.com/lib/pq"
)

// Reconnect intervals of the listener: lib/pq waits listenMinReconnect
// after losing its connection, doubling up to listenMaxReconnect while
// attempts fail. Short, since consumers poll meanwhile and a stopping
// Listen waits for the listener's goroutine, which may be in such a wait.
const (
	listenMinReconnect = 100 * time.Millisecond
	listenMaxReconnect = 2 * time.Second
)

// Listen implements core.ConsumerStore with lib/pq's listener on the
// connection string from WithListenDSN: it LISTENs on the store's notify
// channel, calls wake once as soon as it listens — events committed before
// then sent notifications nobody heard — and then once per notification,
// until ctx ends. It returns ctx's error then, after closing the listener
// and waiting for its goroutine to end (at most listenMaxReconnect, 2s,
// when it is waiting to reconnect). wake runs on Listen's goroutine.
//
// lib/pq reconnects a lost connection by itself; Listen calls wake after
// every reconnect, since notifications sent meanwhile were lost, and logs
// the loss to the store's Logger. When the first connection fails, Listen
// returns the error instead, so that a wrong DSN shows in the consumer
// processor's log (it retries with backoff, and polls meanwhile). Without
// WithListenDSN or without a notify channel it returns
// core.ErrNotificationsUnsupported at once.
func (s *ConsumerStore) Listen(ctx context.Context, wake func()) error {
	if s.queries.Listen == "" || s.listenDSN == "" {
		return core.ErrNotificationsUnsupported
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// The callback runs on the listener's goroutine and must not block.
	firstFailure := make(chan error, 1)
	connected := make(chan struct{})
	l := pq.NewListener(s.listenDSN, listenMinReconnect, listenMaxReconnect, func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventConnected:
			close(connected)
		case pq.ListenerEventConnectionAttemptFailed:
			select {
			case <-connected:
				s.store.logger.Error(ctx, "chronicle: reconnecting the notification listener failed; consumers poll meanwhile", "error", err)
			default:
				select {
				case firstFailure <- err:
				default:
				}
			}
		case pq.ListenerEventDisconnected:
			s.store.logger.Error(ctx, "chronicle: the notification listener lost its connection; reconnecting", "error", err)
		case pq.ListenerEventReconnected:
			s.store.logger.Info(ctx, "chronicle: the notification listener reconnected")
		}
	})
	// Listen blocks until the listener is connected and ignores ctx: run
	// it aside, and let Close end it.
	listened := make(chan error, 1)
	go func() { listened <- l.Listen(s.store.channel) }()
	defer func() {
		_ = l.Close()
		for range l.Notify { // ends when the listener's goroutine does
		}
		if err := <-listened; err != nil {
			s.store.logger.Debug(ctx, "chronicle: the notification listener ended", "error", err)
		}
	}()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case err := <-firstFailure:
		return pgsql.ConsumerError(ctx, "connecting to listen for notifications", err)
	case err := <-listened:
		listened <- err // for the deferred wait
		if err != nil {
			return listenError(ctx, "listening on channel "+s.store.channel, err)
		}
	}
	wake()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case _, ok := <-l.Notify:
			if !ok {
				return listenError(ctx, "waiting for notifications on channel "+s.store.channel, errors.New("the listener closed"))
			}
			// A nil notification follows a reconnect: wake all the same.
			wake()
		}
	}
}

// listenError returns ctx's error once ctx has ended — the normal end of
// Listen — and the wrapped failure otherwise.
func listenError(ctx context.Context, doing string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return pgsql.ConsumerError(ctx, doing, err)
}
