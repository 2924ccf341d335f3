package postgres

import (
	"context"
	"time"

	pgsql "github.com/chronicle-go/chronicle/adapters/postgres-sql"
	"github.com/chronicle-go/chronicle/core"
	"github.com/jackc/pgx/v5"
)

// listenCloseTimeout bounds closing the listening connection once Listen
// is done with it.
const listenCloseTimeout = 5 * time.Second

// Listen implements core.ConsumerStore: it opens a connection of its own
// with the pool's connection settings (pgx.ConnectConfig; it takes no
// connection from the pool), LISTENs on the store's notify channel, and
// calls wake once right after LISTEN succeeds — events committed before
// then sent notifications nobody heard — and then once per notification,
// until ctx ends. It returns ctx's error then, after closing the
// connection; it starts no goroutine. wake runs on Listen's goroutine.
//
// When the connection fails or is lost, Listen returns the error: the
// consumer processor calls it again with backoff, which is the reconnect,
// and polls meanwhile. Without a notify channel it returns
// core.ErrNotificationsUnsupported at once. Behind PgBouncer in transaction
// mode LISTEN does not work; connect the pool's listener directly, or rely
// on polling.
func (s *ConsumerStore) Listen(ctx context.Context, wake func()) error {
	if s.queries.Listen == "" {
		return core.ErrNotificationsUnsupported
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig)
	if err != nil {
		return listenError(ctx, "connecting to listen for notifications", err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), listenCloseTimeout)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, s.queries.Listen); err != nil {
		return listenError(ctx, "listening on channel "+s.store.channel, err)
	}
	wake()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return listenError(ctx, "waiting for notifications on channel "+s.store.channel, err)
		}
		wake()
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
