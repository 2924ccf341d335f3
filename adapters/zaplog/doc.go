// Package zaplog adapts a go.uber.org/zap logger to core.Logger, so that
// Chronicle's stores and consumer runtime log through an application's zap
// setup:
//
//	store, err := postgres.NewStore(postgres.NewStoreConfig(
//		postgres.WithLogger(zaplog.New(logger)),
//	))
//	processor, err := consumer.NewProcessor[pgx.Tx](consumers, handlers,
//		consumer.Config{Logger: zaplog.New(logger)})
//
// Chronicle logs appends and conflicts at debug level and trouble (a lost
// notification listener, a failing consumer) at error level; the zap
// logger's level decides what is written. The package lives in a module of
// its own so that core stays free of dependencies: only applications that
// use zap download it.
package zaplog
