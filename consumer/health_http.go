package consumer

import (
	"encoding/json"
	"net/http"
	"time"
)

// HealthReporter is what the health handlers serve: a *Processor of any
// transaction type.
type HealthReporter interface {
	Health() HealthReport
}

// LivenessHandler serves the liveness probe of a processor: 200 OK while
// Run runs, else 503 Service Unavailable (before Run, after it returned, or
// when it failed: a restored log, see core.ErrTransactionOrderMoved). A
// stuck, failing or stopped consumer does not fail liveness: restarting the
// process would not help it.
//
// The body is the HealthReport as JSON (see ReadinessHandler), for GET;
// HEAD gets the status alone and other methods 405 Method Not Allowed. The
// handler only reads: it changes nothing. The report names consumers,
// their errors and the queries of the writers they wait for: serve it to
// your probes and operators, not to the public.
func LivenessHandler(r HealthReporter) http.Handler {
	return healthHandler{r: r, ready: false}
}

// ReadinessHandler serves the readiness probe of a processor: 200 OK while
// Run runs and no consumer is stopped (HealthStopped: after MaxAttempts
// failures, here or in another process), else 503 Service Unavailable.
// Stuck, failing, standby, starting, progressing and idle consumers are
// ready: a consumer that waits for a writer or retries is doing its job.
//
// The body, for GET, is the HealthReport as JSON:
//
//	{"status": "ok" | "unavailable", "live": true, "ready": true,
//	 "owner": "host/4242", "present": true, "started_at": "…",
//	 "consumers": [{"consumer": "order-totals", "state": "idle",
//	   "reason": "caught up", "cursor": "7421:7430:7425", "events": 12,
//	   "last_batch_at": "…", "last_events_at": "…", "batch_started_at": "…",
//	   "failed_attempts": 0, "last_error": "…", "last_error_position": 0,
//	   "last_error_at": "…", "waiting_since": "…",
//	   "waiting_for": [{"pid": 4711, "transaction_id": 7425, "started": "…",
//	     "state": "idle in transaction", "query": "…", "application": "…"}]}]}
//
// Times are RFC 3339 in UTC, left out when unknown. HEAD gets the status
// alone, other methods 405 Method Not Allowed; like LivenessHandler it
// changes nothing.
func ReadinessHandler(r HealthReporter) http.Handler {
	return healthHandler{r: r, ready: true}
}

// healthHandler is LivenessHandler (ready false) and ReadinessHandler.
type healthHandler struct {
	r     HealthReporter
	ready bool
}

func (h healthHandler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "the health endpoint is read-only: GET or HEAD", http.StatusMethodNotAllowed)
		return
	}
	var report HealthReport
	if h.r != nil {
		report = h.r.Health()
	}
	ok := report.Live
	if h.ready {
		ok = report.Ready
	}
	body := healthJSONOf(report, ok)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if ok {
		w.WriteHeader(http.StatusOK)
	} else {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	if req.Method == http.MethodHead {
		return
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(body)
}

// healthJSON is a HealthReport as the handlers serve it.
type healthJSON struct {
	Status    string               `json:"status"`
	Live      bool                 `json:"live"`
	Ready     bool                 `json:"ready"`
	Owner     string               `json:"owner,omitempty"`
	Present   bool                 `json:"present"`
	StartedAt *time.Time           `json:"started_at,omitempty"`
	Consumers []consumerHealthJSON `json:"consumers"`
}

type consumerHealthJSON struct {
	Consumer          string             `json:"consumer"`
	State             HealthState        `json:"state"`
	Reason            string             `json:"reason"`
	Cursor            string             `json:"cursor"`
	Events            int64              `json:"events"`
	LastBatchAt       *time.Time         `json:"last_batch_at,omitempty"`
	LastEventsAt      *time.Time         `json:"last_events_at,omitempty"`
	BatchStartedAt    *time.Time         `json:"batch_started_at,omitempty"`
	FailedAttempts    int                `json:"failed_attempts"`
	LastError         string             `json:"last_error,omitempty"`
	LastErrorPosition int64              `json:"last_error_position,omitempty"`
	LastErrorAt       *time.Time         `json:"last_error_at,omitempty"`
	WaitingSince      *time.Time         `json:"waiting_since,omitempty"`
	WaitingFor        []writerHealthJSON `json:"waiting_for"`
}

type writerHealthJSON struct {
	PID           int        `json:"pid"`
	TransactionID int64      `json:"transaction_id"`
	Started       *time.Time `json:"started,omitempty"`
	State         string     `json:"state"`
	Query         string     `json:"query"`
	Application   string     `json:"application"`
}

func healthJSONOf(r HealthReport, ok bool) healthJSON {
	out := healthJSON{Status: "unavailable", Live: r.Live, Ready: r.Ready, Owner: r.Owner, Present: r.Present,
		StartedAt: utcOrNil(r.StartedAt), Consumers: []consumerHealthJSON{}}
	if ok {
		out.Status = "ok"
	}
	for _, c := range r.Consumers {
		j := consumerHealthJSON{Consumer: c.Consumer, State: c.State, Reason: c.Reason, Cursor: c.Cursor.String(), Events: c.Events,
			LastBatchAt: utcOrNil(c.LastBatchAt), LastEventsAt: utcOrNil(c.LastEventsAt), BatchStartedAt: utcOrNil(c.BatchStartedAt),
			FailedAttempts: c.FailedAttempts, LastError: c.LastError, LastErrorPosition: c.LastErrorPosition,
			LastErrorAt: utcOrNil(c.LastErrorAt), WaitingSince: utcOrNil(c.WaitingSince), WaitingFor: []writerHealthJSON{}}
		for _, w := range c.WaitingFor {
			j.WaitingFor = append(j.WaitingFor, writerHealthJSON{PID: w.PID, TransactionID: w.TransactionID, Started: utcOrNil(w.Started),
				State: w.State, Query: w.Query, Application: w.Application})
		}
		out.Consumers = append(out.Consumers, j)
	}
	return out
}

// utcOrNil is t in UTC, nil when zero (left out of the JSON).
func utcOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
