// Package v1 holds version 1 of the user events. Stored events keep their
// version forever, so these structs never change: a new payload shape is a
// new version.
package v1

// UserRegistered records a sign-up.
type UserRegistered struct {
	UserID string `json:"user_id"`
	Email  string `json:"email"`
	Name   string `json:"name"`
}

// UserEmailChanged records a new e-mail address. It has only this version.
type UserEmailChanged struct {
	UserID string `json:"user_id"`
	Email  string `json:"email"`
}
