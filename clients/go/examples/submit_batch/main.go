// Command submit_batch submits a batch of "sleep" jobs to a jobwire server and
// watches it to completion, printing the batch's counts as they change.
//
// It connects to JOBWIRE_ADDR (default 127.0.0.1:50051):
//
//	go run ./examples/submit_batch -jobs 10 -seconds 0.5
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"time"

	jobwirev1 "github.com/jobwire/jobwire/clients/go/gen/jobwire/v1"
	"github.com/jobwire/jobwire/clients/go/jobwire"
)

func main() {
	jobs := flag.Int("jobs", 10, "number of sleep jobs in the batch")
	seconds := flag.Float64("seconds", 0.5, "how long each job sleeps")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, serverAddr(), *jobs, *seconds); err != nil {
		log.Fatal(err)
	}
}

// serverAddr returns JOBWIRE_ADDR or the address `make run` serves on.
func serverAddr() string {
	if addr := os.Getenv("JOBWIRE_ADDR"); addr != "" {
		return addr
	}
	return "127.0.0.1:50051"
}

func run(ctx context.Context, addr string, jobs int, seconds float64) error {
	dialCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	client, err := jobwire.Dial(dialCtx, addr)
	if err != nil {
		return err
	}
	defer client.Close()

	specs, err := sleepJobs(jobs, seconds)
	if err != nil {
		return err
	}
	submitted, err := client.SubmitBatch(ctx, "submit_batch example", specs)
	if err != nil {
		return err
	}
	batchID := submitted.GetBatch().GetId()
	fmt.Printf("submitted batch %s with %d jobs\n", batchID, len(submitted.GetJobIds()))
	return watch(ctx, client, batchID)
}

// sleepJobs returns n specs of "sleep" jobs that report progress in 5 steps.
func sleepJobs(n int, seconds float64) ([]*jobwirev1.JobSpec, error) {
	specs := make([]*jobwirev1.JobSpec, n)
	for i := range specs {
		spec, err := jobwire.CustomJob("sleep", map[string]any{"seconds": seconds, "steps": 5})
		if err != nil {
			return nil, err
		}
		specs[i] = spec
	}
	return specs, nil
}

// watch prints the batch's counts on every change until it is terminal.
func watch(ctx context.Context, client *jobwire.Client, batchID string) error {
	var last *jobwirev1.Batch
	for event, err := range client.WatchBatch(ctx, batchID) {
		if err != nil {
			return err
		}
		last = event.GetBatch()
		c := last.GetCounts()
		fmt.Printf("%-21s pending %3d  processing %3d  completed %3d  failed %3d  cancelled %3d  of %d\n",
			last.GetStatus(), c.GetPending(), c.GetProcessing(), c.GetCompleted(),
			c.GetFailed(), c.GetCancelled(), c.GetTotal())
	}
	if last.GetStatus() != jobwirev1.JobStatus_JOB_STATUS_COMPLETED {
		return errors.New("batch did not complete")
	}
	return nil
}
