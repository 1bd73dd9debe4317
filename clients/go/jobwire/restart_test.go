package jobwire_test

import (
	"context"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"

	jobwirev1 "github.com/jobwire/jobwire/clients/go/gen/jobwire/v1"
	"github.com/jobwire/jobwire/clients/go/jobwire"
)

func TestWatchBatchResumesAcrossServerRestart(t *testing.T) {
	var opens atomic.Int32
	client := liveClient(t, jobwire.WithGRPCDialOptions(
		grpc.WithChainStreamInterceptor(countStreams(jobwirev1.JobService_WatchBatch_FullMethodName, &opens))))
	harness := harnessProcess(t)
	ctx := testContext(t, 3*time.Minute)
	const jobs = 10
	batchID := submitBatch(ctx, t, client, sleepJobs(t, jobs, map[string]any{"seconds": 0.5, "steps": 5}))

	restarted := false
	events := watchBatch(ctx, t, client, batchID, func(*jobwirev1.BatchEvent) {
		if !restarted {
			restarted = true
			if err := harness.Signal(syscall.SIGHUP); err != nil {
				t.Fatalf("signal the harness to restart the server: %v", err)
			}
		}
	})

	checkBatchCompleted(t, events, jobs)
	if n := opens.Load(); n < 2 {
		t.Errorf("WatchBatch opened %d stream(s): the watch never reconnected", n)
	}
	t.Logf("%d events over %d streams", len(events), opens.Load())
}

// harnessProcess returns the test harness that restarts the server on SIGHUP,
// or skips the test when it is not known.
func harnessProcess(t *testing.T) *os.Process {
	t.Helper()
	value := os.Getenv("JOBWIRE_HARNESS_PID")
	if value == "" {
		t.Skip("JOBWIRE_HARNESS_PID not set: run through make test-go")
	}
	pid, err := strconv.Atoi(value)
	if err != nil {
		t.Fatalf("JOBWIRE_HARNESS_PID=%q: %v", value, err)
	}
	process, err := os.FindProcess(pid)
	if err != nil {
		t.Fatalf("find harness process %d: %v", pid, err)
	}
	return process
}

// countStreams returns an interceptor that counts the streams opened for method.
func countStreams(method string, count *atomic.Int32) grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, m string,
		streamer grpc.Streamer, opts ...grpc.CallOption,
	) (grpc.ClientStream, error) {
		if m == method {
			count.Add(1)
		}
		return streamer(ctx, desc, cc, m, opts...)
	}
}
