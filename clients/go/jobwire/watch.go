package jobwire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math/rand/v2"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	jobwirev1 "github.com/jobwire/jobwire/clients/go/gen/jobwire/v1"
)

// errStreamEnded reports a watch stream that ended before the terminal event,
// as when the server shuts down cleanly.
var errStreamEnded = errors.New("jobwire: watch stream ended before the terminal event")

// WatchJob streams a job's events: a snapshot first, then every change, in
// version order. The sequence ends after the event that makes the job
// terminal, or with one final error: the context's error when ctx ends, or
// the mapped error of a failed call (such as ErrNotFound). Stopping the loop
// early ends the watch.
//
// When the stream breaks (server restart, connection reset, UNAVAILABLE),
// the watch reconnects with backoff and resumes after the last version it
// delivered, so no event is delivered twice; see WithReconnectBackoff and
// WithReconnectTimeout.
func (c *Client) WatchJob(ctx context.Context, jobID string) iter.Seq2[*jobwirev1.JobEvent, error] {
	w := &watcher[*jobwirev1.JobEvent]{
		policy: c.cfg.reconnect,
		state: func(e *jobwirev1.JobEvent) (int64, jobwirev1.JobStatus) {
			return e.GetJob().GetVersion(), e.GetJob().GetStatus()
		},
		open: func(ctx context.Context, resumeAfter int64) (func() (*jobwirev1.JobEvent, error), error) {
			stream, err := c.svc.WatchJob(ctx, &jobwirev1.WatchJobRequest{JobId: jobID, ResumeAfter: resumeAfter})
			if err != nil {
				return nil, err
			}
			return func() (*jobwirev1.JobEvent, error) {
				resp, err := stream.Recv()
				return resp.GetEvent(), err
			}, nil
		},
	}
	return w.events(ctx)
}

// WatchBatch streams a batch's events like WatchJob streams a job's: a
// snapshot first, then every change of its counts, progress or status,
// ending after the event that makes the batch terminal.
func (c *Client) WatchBatch(ctx context.Context, batchID string) iter.Seq2[*jobwirev1.BatchEvent, error] {
	w := &watcher[*jobwirev1.BatchEvent]{
		policy: c.cfg.reconnect,
		state: func(e *jobwirev1.BatchEvent) (int64, jobwirev1.JobStatus) {
			return e.GetBatch().GetVersion(), e.GetBatch().GetStatus()
		},
		open: func(ctx context.Context, resumeAfter int64) (func() (*jobwirev1.BatchEvent, error), error) {
			stream, err := c.svc.WatchBatch(ctx, &jobwirev1.WatchBatchRequest{BatchId: batchID, ResumeAfter: resumeAfter})
			if err != nil {
				return nil, err
			}
			return func() (*jobwirev1.BatchEvent, error) {
				resp, err := stream.Recv()
				return resp.GetEvent(), err
			}, nil
		},
	}
	return w.events(ctx)
}

// watcher follows one job or batch across as many streams as it takes.
type watcher[E any] struct {
	policy reconnectPolicy
	// state returns an event's version and the watched object's status.
	state func(E) (version int64, status jobwirev1.JobStatus)
	// open starts a stream that skips events up to resumeAfter and returns
	// its receive function.
	open func(ctx context.Context, resumeAfter int64) (recv func() (E, error), err error)
	// last is the version of the last delivered event.
	last int64
}

// events returns the watch as an iterator.
func (w *watcher[E]) events(ctx context.Context) iter.Seq2[E, error] {
	return func(yield func(E, error) bool) {
		session := *w // every loop over the sequence watches from the start
		if err := session.run(ctx, yield); err != nil {
			var zero E
			yield(zero, err)
		}
	}
}

// run delivers events until the object is terminal or yield asks to stop
// (nil), or until it cannot go on (the error to report).
func (w *watcher[E]) run(ctx context.Context, yield func(E, error) bool) error {
	retry := newReconnectBackoff(w.policy)
	for {
		finished, delivered, err := w.follow(ctx, yield)
		switch {
		case finished:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case !resumable(err):
			return mapError(err)
		}
		if delivered {
			retry.reset()
		}
		if !retry.wait(ctx) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("jobwire: watch gave up reconnecting after %s: %w", w.policy.timeout, mapError(err))
		}
	}
}

// follow reads one stream, resuming after w.last, and delivers the events
// newer than w.last. finished reports that the watch is over; delivered that
// at least one event was delivered; err why the stream ended otherwise.
func (w *watcher[E]) follow(ctx context.Context, yield func(E, error) bool) (finished, delivered bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	recv, err := w.open(ctx, w.last)
	if err != nil {
		return false, false, err
	}
	for {
		event, err := recv()
		if errors.Is(err, io.EOF) {
			return false, delivered, errStreamEnded
		}
		if err != nil {
			return false, delivered, err
		}
		version, objectStatus := w.state(event)
		if version <= w.last {
			continue
		}
		w.last = version
		delivered = true
		if !yield(event, nil) || IsTerminal(objectStatus) {
			return true, true, nil
		}
	}
}

// resumable reports whether a watch that failed with err (while its context
// is alive) may reconnect: the stream broke, but the request was fine.
func resumable(err error) bool {
	if errors.Is(err, errStreamEnded) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.Aborted, codes.Canceled:
		// Canceled with a live context: the server cancelled the stream, as
		// it does to watches still open when it shuts down.
		return true
	default:
		return false
	}
}

// reconnectBackoff spaces the reconnection attempts of one watch.
type reconnectBackoff struct {
	policy   reconnectPolicy
	delay    time.Duration
	deadline time.Time
}

func newReconnectBackoff(policy reconnectPolicy) *reconnectBackoff {
	b := &reconnectBackoff{policy: policy}
	b.reset()
	return b
}

// reset starts over after the watch made progress.
func (b *reconnectBackoff) reset() {
	b.delay = b.policy.baseDelay
	b.deadline = time.Time{}
}

// wait sleeps before the next attempt, with jitter and a growing delay. It
// returns false when ctx ends first, or when the reconnect timeout has passed
// since the first failure without progress.
func (b *reconnectBackoff) wait(ctx context.Context) bool {
	now := time.Now()
	if b.deadline.IsZero() && b.policy.timeout > 0 {
		b.deadline = now.Add(b.policy.timeout)
	}
	if !b.deadline.IsZero() && now.After(b.deadline) {
		return false
	}
	timer := time.NewTimer(jitter(b.delay))
	defer timer.Stop()
	b.delay = min(2*b.delay, b.policy.maxDelay)
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// jitter returns a random duration between d/2 and d.
func jitter(d time.Duration) time.Duration {
	half := d / 2
	return half + rand.N(half+1)
}
