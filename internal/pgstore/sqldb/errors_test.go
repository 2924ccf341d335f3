package sqldb

import (
	"errors"
	"fmt"
	"testing"
)

// pqLikeError and pgconnLikeError have the shapes of lib/pq's and pgx's
// server errors, without importing either driver.
type pqLikeError struct {
	Code       string
	Constraint string
}

func (e *pqLikeError) Error() string    { return "pq: " + e.Code }
func (e *pqLikeError) SQLState() string { return e.Code }

type pgconnLikeError struct {
	Code           string
	ConstraintName string
}

func (e *pgconnLikeError) Error() string    { return "ERROR: " + e.Code }
func (e *pgconnLikeError) SQLState() string { return e.Code }

func TestDatabaseError(t *testing.T) {
	pq := fmt.Errorf("wrapped: %w", &pqLikeError{Code: "23505", Constraint: "events_event_id_key"})
	if got := (executor{}).DatabaseError(pq); got.Code != "23505" || got.Constraint != "events_event_id_key" {
		t.Errorf("lib/pq shape: %+v", got)
	}
	pgx := &pgconnLikeError{Code: "23505", ConstraintName: "events_aggregate_version_key"}
	if got := (executor{}).DatabaseError(pgx); got.Code != "23505" || got.Constraint != "events_aggregate_version_key" {
		t.Errorf("pgx shape: %+v", got)
	}
	if got := (executor{}).DatabaseError(errors.New("connection reset")); got.Code != "" || got.Constraint != "" {
		t.Errorf("plain error: %+v", got)
	}
}
