package postgres

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/internal/pgstore"
	"github.com/chronicle-go/chronicle/internal/pgstore/sqldb"
	"github.com/lib/pq"
)

// transactor is pgstore.Transactor over a DB: database/sql's
// transactions (sqldb.Transactions), and notifications from lib/pq's
// listener, the one part of the package that needs lib/pq.
type transactor struct {
	sqldb.Transactions
	listenDSN string
}

var _ pgstore.Transactor[*sql.Tx] = transactor{}

// Reconnect intervals of the listener: lib/pq waits listenMinReconnect
// after losing its connection, doubling up to listenMaxReconnect while
// attempts fail. Short, since consumers poll meanwhile and a stopping
// Listen waits for the listener's goroutine, which may be in such a wait.
const (
	listenMinReconnect = 100 * time.Millisecond
	listenMaxReconnect = 2 * time.Second
)

// Listen uses lib/pq's listener on the connection string from
// WithListenDSN: it LISTENs on the channel, calls wake once as soon as it
// listens and then once per notification, until ctx ends. It returns ctx's
// error then, after closing the listener and waiting for its goroutine to
// end (at most listenMaxReconnect, 2s, when it is waiting to reconnect).
//
// lib/pq reconnects a lost connection by itself; Listen calls wake after
// every reconnect, since notifications sent meanwhile were lost, and logs
// the loss. When the first connection fails, Listen returns the error
// instead, so that a wrong DSN shows in the consumer processor's log (it
// retries with backoff, and polls meanwhile). Without WithListenDSN it
// returns core.ErrNotificationsUnsupported at once.
func (t transactor) Listen(ctx context.Context, listen pgstore.Listening, wake func(payload string)) error {
	if t.listenDSN == "" {
		return core.ErrNotificationsUnsupported
	}
	logger := pgstore.LoggerOrDiscard(listen.Logger)
	// The callback runs on the listener's goroutine and must not block.
	firstFailure := make(chan error, 1)
	connected := make(chan struct{})
	l := pq.NewListener(t.listenDSN, listenMinReconnect, listenMaxReconnect, func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventConnected:
			close(connected)
		case pq.ListenerEventConnectionAttemptFailed:
			select {
			case <-connected:
				logger.ErrorContext(ctx, "chronicle: reconnecting the notification listener failed; consumers poll meanwhile", "error", err)
			default:
				select {
				case firstFailure <- err:
				default:
				}
			}
		case pq.ListenerEventDisconnected:
			logger.ErrorContext(ctx, "chronicle: the notification listener lost its connection; reconnecting", "error", err)
		case pq.ListenerEventReconnected:
			logger.InfoContext(ctx, "chronicle: the notification listener reconnected")
		}
	})
	// Listen blocks until the listener is connected and ignores ctx: run
	// it aside, and let Close end it.
	listened := make(chan error, 1)
	go func() { listened <- l.Listen(listen.Channel) }()
	defer func() {
		_ = l.Close()
		for range l.Notify { // ends when the listener's goroutine does
		}
		if err := <-listened; err != nil {
			logger.DebugContext(ctx, "chronicle: the notification listener ended", "error", err)
		}
	}()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case err := <-firstFailure:
		return pgstore.ListenError(ctx, "connecting to listen for notifications", err)
	case err := <-listened:
		listened <- err // for the deferred wait
		if err != nil {
			return pgstore.ListenError(ctx, "listening on channel "+listen.Channel, err)
		}
	}
	wake("")
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case n, ok := <-l.Notify:
			if !ok {
				return pgstore.ListenError(ctx, "waiting for notifications on channel "+listen.Channel, errors.New("the listener closed"))
			}
			// A nil notification follows a reconnect: wake all the same.
			payload := ""
			if n != nil {
				payload = n.Extra
			}
			wake(payload)
		}
	}
}
