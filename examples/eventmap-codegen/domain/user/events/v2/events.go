// Package v2 holds version 2 of the user events.
package v2

import "time"

// UserRegistered records a sign-up, with the name split in two.
type UserRegistered struct {
	UserID    string `json:"user_id"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

// AccountClosed records that a user left. Its event type is
// "UserDeactivated", the name it had when first designed: renaming the Go
// type does not change stored data.
//
//chronicle:event name=UserDeactivated
type AccountClosed struct {
	UserID   string    `json:"user_id"`
	Reason   string    `json:"reason"`
	ClosedAt time.Time `json:"closed_at"`
}
