package main

import (
	"bytes"
	"context"
	"testing"
)

// TestRun pins the example's output: the stored versions, the decoded
// structs and the upcast view the projection folds.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}

const want = `stored   #1 UserRegistered v1 {"user_id":"user-42","email":"ada@example.com","name":"Ada Lovelace"} correlation=signup-7
  decoded  v1.UserRegistered {UserID:user-42 Email:ada@example.com Name:Ada Lovelace}
stored   #2 UserEmailChanged v1 {"user_id":"user-42","email":"ada@lovelace.org"} correlation=signup-7
  decoded  v1.UserEmailChanged {UserID:user-42 Email:ada@lovelace.org}
stored   #3 UserDeactivated v2 {"user_id":"user-42","reason":"moved to the analytical engine","closed_at":"2024-03-01T10:30:00Z"} causation=support-ticket-1843
  decoded  v2.AccountClosed {UserID:user-42 Reason:moved to the analytical engine ClosedAt:2024-03-01 10:30:00 +0000 UTC}
latest   v2.UserRegistered {UserID:user-42 Email:ada@example.com FirstName:Ada LastName:Lovelace}
latest   v1.UserEmailChanged {UserID:user-42 Email:ada@lovelace.org}
latest   v2.AccountClosed {UserID:user-42 Reason:moved to the analytical engine ClosedAt:2024-03-01 10:30:00 +0000 UTC}
user user-42: Ada Lovelace <ada@lovelace.org>, active: false
`
