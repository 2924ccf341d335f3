package main

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// machine describes where the numbers were taken.
type machine struct {
	Cores     int    `json:"cores"`
	CPU       string `json:"cpu"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
}

func thisMachine() machine {
	return machine{Cores: runtime.NumCPU(), CPU: cpuModel(), GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
}

// cpuModel reads the model name on Linux; elsewhere it is "unknown".
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer func() { _ = f.Close() }() // read-only: nothing to lose
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// settingNames are the server settings that decide what a commit costs
// and how much of the data stays in memory. The run reports them as found
// and never changes them.
var settingNames = []string{"server_version", "synchronous_commit", "fsync", "full_page_writes", "wal_sync_method",
	"shared_buffers", "max_connections"}

func serverSettings(ctx context.Context, pool *pgxpool.Pool) (map[string]string, error) {
	out := make(map[string]string, len(settingNames))
	for _, name := range settingNames {
		var v string
		if err := pool.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}
