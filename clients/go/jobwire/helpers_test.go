package jobwire_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	jobwirev1 "github.com/jobwire/jobwire/clients/go/gen/jobwire/v1"
	"github.com/jobwire/jobwire/clients/go/jobwire"
)

// The tests run against a live server that the test harness starts and names
// in JOBWIRE_ADDR; without it they skip.

// liveClient dials the harness's server, or skips the test when there is none.
func liveClient(t *testing.T, opts ...jobwire.Option) *jobwire.Client {
	t.Helper()
	addr := os.Getenv("JOBWIRE_ADDR")
	if addr == "" {
		t.Skip("JOBWIRE_ADDR not set: run through make test-go")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	client, err := jobwire.Dial(ctx, addr, opts...)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// testContext returns the test's context, bounded by timeout.
func testContext(t *testing.T, timeout time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	return ctx
}

// customJob returns the spec of a job with free-form parameters.
func customJob(t *testing.T, jobType string, params map[string]any) *jobwirev1.JobSpec {
	t.Helper()
	spec, err := jobwire.CustomJob(jobType, params)
	if err != nil {
		t.Fatalf("CustomJob: %v", err)
	}
	return spec
}

// sleepJobs returns n specs of "sleep" jobs with the same parameters.
func sleepJobs(t *testing.T, n int, params map[string]any) []*jobwirev1.JobSpec {
	t.Helper()
	specs := make([]*jobwirev1.JobSpec, n)
	for i := range specs {
		specs[i] = customJob(t, "sleep", params)
	}
	return specs
}

// submitBatch submits a batch and returns its id.
func submitBatch(ctx context.Context, t *testing.T, client *jobwire.Client, specs []*jobwirev1.JobSpec) string {
	t.Helper()
	resp, err := client.SubmitBatch(ctx, t.Name(), specs)
	if err != nil {
		t.Fatalf("SubmitBatch: %v", err)
	}
	if got := len(resp.GetJobIds()); got != len(specs) {
		t.Fatalf("SubmitBatch returned %d job ids for %d jobs", got, len(specs))
	}
	return resp.GetBatch().GetId()
}

// watchBatch collects a batch's events until the watch ends, calling
// onEvent (when not nil) after each one.
func watchBatch(ctx context.Context, t *testing.T, client *jobwire.Client, batchID string, onEvent func(*jobwirev1.BatchEvent)) []*jobwirev1.BatchEvent {
	t.Helper()
	var events []*jobwirev1.BatchEvent
	for event, err := range client.WatchBatch(ctx, batchID) {
		if err != nil {
			t.Fatalf("WatchBatch after %d events: %v", len(events), err)
		}
		events = append(events, event)
		if onEvent != nil {
			onEvent(event)
		}
	}
	if len(events) == 0 {
		t.Fatal("WatchBatch delivered no event")
	}
	return events
}

// watchJob follows a job until its watch ends and returns its last state.
func watchJob(ctx context.Context, t *testing.T, client *jobwire.Client, jobID string) *jobwirev1.Job {
	t.Helper()
	var last *jobwirev1.Job
	for event, err := range client.WatchJob(ctx, jobID) {
		if err != nil {
			t.Fatalf("WatchJob: %v", err)
		}
		last = event.GetJob()
	}
	if last == nil {
		t.Fatal("WatchJob delivered no event")
	}
	return last
}

// checkBatchCompleted checks that the events' versions strictly increase
// (no event delivered twice), that every event's counts are consistent, that
// the completed count never decreases, and that the last event shows every
// job completed.
func checkBatchCompleted(t *testing.T, events []*jobwirev1.BatchEvent, jobs int32) {
	t.Helper()
	for i, event := range events {
		checkCounts(t, i, event.GetBatch().GetCounts())
	}
	for i := 1; i < len(events); i++ {
		prev, cur := events[i-1].GetBatch(), events[i].GetBatch()
		if cur.GetVersion() <= prev.GetVersion() {
			t.Errorf("event %d: version %d after %d: an event was delivered twice or out of order",
				i, cur.GetVersion(), prev.GetVersion())
		}
		if cur.GetCounts().GetCompleted() < prev.GetCounts().GetCompleted() {
			t.Errorf("event %d: completed count fell from %d to %d",
				i, prev.GetCounts().GetCompleted(), cur.GetCounts().GetCompleted())
		}
	}
	last := events[len(events)-1].GetBatch()
	if last.GetStatus() != jobwirev1.JobStatus_JOB_STATUS_COMPLETED {
		t.Errorf("last event: batch %s, want COMPLETED (counts %v)", last.GetStatus(), last.GetCounts())
	}
	if got := last.GetCounts().GetCompleted(); got != jobs {
		t.Errorf("last event: %d jobs completed, want %d", got, jobs)
	}
}

// checkCounts checks that no count of event i is negative and that they add
// up to the total, as the contract says.
func checkCounts(t *testing.T, i int, c *jobwirev1.BatchCounts) {
	t.Helper()
	parts := []int32{c.GetPending(), c.GetProcessing(), c.GetCompleted(), c.GetFailed(), c.GetCancelled()}
	var sum int32
	for _, n := range parts {
		if n < 0 {
			t.Errorf("event %d: negative count in %v", i, c)
			return
		}
		sum += n
	}
	if sum != c.GetTotal() {
		t.Errorf("event %d: counts add up to %d, not the total %d: %v", i, sum, c.GetTotal(), c)
	}
}

// unknownID returns an id no job or batch has, shaped like a MongoDB ObjectId.
func unknownID() string {
	return hex.EncodeToString(randomBytes(12))
}

// randomKey returns an idempotency key unique to this run.
func randomKey(prefix string) string {
	return prefix + "-" + hex.EncodeToString(randomBytes(8))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return b
}
