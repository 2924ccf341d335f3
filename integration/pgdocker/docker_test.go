package pgdocker

import (
	"testing"
	"time"
)

func TestDockerAnswersFailsFast(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	start := time.Now()
	if err := dockerAnswers(t.Context()); err == nil {
		t.Fatal("dockerAnswers succeeded without a daemon")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("dockerAnswers took %s without a daemon", d)
	}
}
