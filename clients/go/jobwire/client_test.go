package jobwire_test

import (
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	jobwirev1 "github.com/jobwire/jobwire/clients/go/gen/jobwire/v1"
	"github.com/jobwire/jobwire/clients/go/jobwire"
)

func TestWatchBatchCountsRiseToCompleted(t *testing.T) {
	client := liveClient(t)
	ctx := testContext(t, time.Minute)
	const jobs = 10
	batchID := submitBatch(ctx, t, client, sleepJobs(t, jobs, map[string]any{"seconds": 0.2}))

	events := watchBatch(ctx, t, client, batchID, nil)

	checkBatchCompleted(t, events, jobs)
	first := events[0].GetBatch().GetCounts().GetCompleted()
	last := events[len(events)-1].GetBatch().GetCounts().GetCompleted()
	if first >= last {
		t.Errorf("completed count never rose: %d in the first event, %d in the last", first, last)
	}
	t.Logf("%d events, completed %d -> %d", len(events), first, last)
}

func TestFailedJobCarriesJobError(t *testing.T) {
	client := liveClient(t)
	ctx := testContext(t, time.Minute)
	spec := customJob(t, "sleep", map[string]any{"seconds": 0.01, "fail": "permanent"})
	submitted, err := client.SubmitJob(ctx, spec)
	if err != nil {
		t.Fatalf("SubmitJob: %v", err)
	}

	job := watchJob(ctx, t, client, submitted.GetJob().GetId())

	if job.GetStatus() != jobwirev1.JobStatus_JOB_STATUS_FAILED {
		t.Fatalf("job ended %s, want FAILED", job.GetStatus())
	}
	var jobErr *jobwire.JobError
	if !errors.As(jobwire.JobFailure(job), &jobErr) {
		t.Fatalf("JobFailure(%s job) returned no *JobError", job.GetStatus())
	}
	if jobErr.Code == "" {
		t.Errorf("JobError code is empty (message %q)", jobErr.Message)
	}
	if jobErr.Retryable {
		t.Errorf("JobError %s is retryable, want a permanent failure", jobErr.Code)
	}
	t.Logf("job error: %v", jobErr)
}

func TestUnknownIDsAreNotFound(t *testing.T) {
	client := liveClient(t)
	ctx := testContext(t, 30*time.Second)
	id := unknownID()

	_, jobErr := client.GetJob(ctx, id)
	_, batchErr := client.GetBatch(ctx, id)
	var watchErr error
	for _, err := range client.WatchJob(ctx, id) {
		watchErr = err
	}

	for name, err := range map[string]error{"GetJob": jobErr, "GetBatch": batchErr, "WatchJob": watchErr} {
		if !errors.Is(err, jobwire.ErrNotFound) {
			t.Errorf("%s(unknown id): %v, want ErrNotFound", name, err)
		}
		var statusErr *jobwire.StatusError
		if !errors.As(err, &statusErr) || statusErr.Code != codes.NotFound {
			t.Errorf("%s(unknown id): %v, want a *StatusError with code NotFound", name, err)
		}
		if status.Code(err) != codes.NotFound {
			t.Errorf("%s(unknown id): status.Code = %s, want NotFound", name, status.Code(err))
		}
	}
}

func TestEmptyBatchIsInvalidArgument(t *testing.T) {
	client := liveClient(t)
	ctx := testContext(t, 30*time.Second)

	_, err := client.SubmitBatch(ctx, t.Name(), nil)

	var invalid *jobwire.InvalidArgumentError
	if !errors.As(err, &invalid) {
		t.Fatalf("SubmitBatch(no jobs): %v, want *InvalidArgumentError", err)
	}
	if !errors.Is(err, jobwire.ErrInvalidArgument) {
		t.Errorf("SubmitBatch(no jobs): %v does not match ErrInvalidArgument", err)
	}
	if invalid.Message == "" {
		t.Error("InvalidArgumentError has no message")
	}
}

func TestIdempotencyKeyReturnsTheSameJob(t *testing.T) {
	client := liveClient(t)
	ctx := testContext(t, 30*time.Second)
	key := randomKey(t.Name())
	spec := customJob(t, "noop", map[string]any{"n": 1})

	first, err := client.SubmitJob(ctx, spec, jobwire.WithIdempotencyKey(key))
	if err != nil {
		t.Fatalf("first SubmitJob: %v", err)
	}
	second, err := client.SubmitJob(ctx, spec, jobwire.WithIdempotencyKey(key))
	if err != nil {
		t.Fatalf("second SubmitJob: %v", err)
	}

	if !first.GetCreated() || second.GetCreated() {
		t.Errorf("created: first %t, second %t; want true, false", first.GetCreated(), second.GetCreated())
	}
	if first.GetJob().GetId() != second.GetJob().GetId() {
		t.Errorf("same key gave two jobs: %s and %s", first.GetJob().GetId(), second.GetJob().GetId())
	}
}

func TestCancelBatch(t *testing.T) {
	client := liveClient(t)
	ctx := testContext(t, time.Minute)
	batchID := submitBatch(ctx, t, client, sleepJobs(t, 3, map[string]any{"seconds": 5, "steps": 50}))

	if _, err := client.CancelBatch(ctx, batchID, "test"); err != nil {
		t.Fatalf("CancelBatch: %v", err)
	}
	events := watchBatch(ctx, t, client, batchID, nil)

	last := events[len(events)-1].GetBatch()
	if last.GetStatus() != jobwirev1.JobStatus_JOB_STATUS_CANCELLED {
		t.Errorf("batch ended %s, want CANCELLED (counts %v)", last.GetStatus(), last.GetCounts())
	}
	if _, err := client.CancelBatch(ctx, batchID, "again"); !errors.Is(err, jobwire.ErrFailedPrecondition) {
		t.Errorf("CancelBatch(terminal batch): %v, want ErrFailedPrecondition", err)
	}
}
