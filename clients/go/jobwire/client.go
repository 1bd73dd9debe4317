package jobwire

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"

	jobwirev1 "github.com/jobwire/jobwire/clients/go/gen/jobwire/v1"
)

// Client calls one jobwire server. It is safe for concurrent use; call Close
// when done with it.
type Client struct {
	conn *grpc.ClientConn
	svc  jobwirev1.JobServiceClient
	cfg  config
}

// Dial connects to the jobwire server at addr ("host:port") and waits until
// the connection is ready or ctx ends, so give ctx a timeout.
func Dial(ctx context.Context, addr string, opts ...Option) (*Client, error) {
	cfg := newConfig(opts)
	dialOpts, err := cfg.dialOptions()
	if err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient(addr, dialOpts...)
	if err != nil {
		return nil, fmt.Errorf("jobwire: dial %s: %w", addr, err)
	}
	if err := waitReady(ctx, conn); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("jobwire: connect to %s: %w", addr, err)
	}
	return &Client{conn: conn, svc: jobwirev1.NewJobServiceClient(conn), cfg: cfg}, nil
}

// waitReady starts connecting and returns once conn is ready or ctx ends.
func waitReady(ctx context.Context, conn *grpc.ClientConn) error {
	conn.Connect()
	for {
		state := conn.GetState()
		if state == connectivity.Ready {
			return nil
		}
		if !conn.WaitForStateChange(ctx, state) {
			return fmt.Errorf("connection %s: %w", state, ctx.Err())
		}
	}
}

// Close closes the connection; calls and watches in progress fail.
func (c *Client) Close() error {
	return c.conn.Close()
}

// Service returns the generated stub on the client's connection, for RPCs
// this package does not wrap (ListJobs, UploadFile, DownloadArtifact, ...).
// Its calls return plain gRPC status errors and get no default deadline.
func (c *Client) Service() jobwirev1.JobServiceClient {
	return c.svc
}

// SubmitOption configures SubmitJob and SubmitBatch.
type SubmitOption func(*submitOptions)

type submitOptions struct {
	idempotencyKey string
}

// WithIdempotencyKey makes a submission idempotent: repeating it with the same
// key (up to 200 characters) returns the job or batch the first one created,
// with Created false.
func WithIdempotencyKey(key string) SubmitOption {
	return func(o *submitOptions) { o.idempotencyKey = key }
}

func newSubmitOptions(opts []SubmitOption) submitOptions {
	var o submitOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// SubmitJob submits one job. The response holds the stored job and whether
// this call created it.
func (c *Client) SubmitJob(ctx context.Context, spec *jobwirev1.JobSpec, opts ...SubmitOption) (*jobwirev1.SubmitJobResponse, error) {
	o := newSubmitOptions(opts)
	return unary(ctx, c, c.svc.SubmitJob, &jobwirev1.SubmitJobRequest{
		Job:            spec,
		IdempotencyKey: o.idempotencyKey,
	})
}

// SubmitBatch submits a named batch of jobs in one call. The response holds
// the stored batch, its job ids in the order of specs, and whether this call
// created it.
func (c *Client) SubmitBatch(ctx context.Context, name string, specs []*jobwirev1.JobSpec, opts ...SubmitOption) (*jobwirev1.SubmitBatchResponse, error) {
	o := newSubmitOptions(opts)
	return unary(ctx, c, c.svc.SubmitBatch, &jobwirev1.SubmitBatchRequest{
		Name:           name,
		Jobs:           specs,
		IdempotencyKey: o.idempotencyKey,
	})
}

// GetJob returns the job with the given id.
func (c *Client) GetJob(ctx context.Context, jobID string) (*jobwirev1.Job, error) {
	resp, err := unary(ctx, c, c.svc.GetJob, &jobwirev1.GetJobRequest{JobId: jobID})
	return resp.GetJob(), err
}

// GetBatch returns the batch with the given id.
func (c *Client) GetBatch(ctx context.Context, batchID string) (*jobwirev1.Batch, error) {
	resp, err := unary(ctx, c, c.svc.GetBatch, &jobwirev1.GetBatchRequest{BatchId: batchID})
	return resp.GetBatch(), err
}

// CancelJob cancels a job and returns it: CANCELLED, or still PROCESSING with
// CancelRequested set until its handler stops. reason may be empty.
func (c *Client) CancelJob(ctx context.Context, jobID, reason string) (*jobwirev1.Job, error) {
	resp, err := unary(ctx, c, c.svc.CancelJob, &jobwirev1.CancelJobRequest{JobId: jobID, Reason: reason})
	return resp.GetJob(), err
}

// CancelBatch cancels every job of a batch that is not terminal yet. The
// response holds the batch and how many jobs were cancelled or asked to stop.
func (c *Client) CancelBatch(ctx context.Context, batchID, reason string) (*jobwirev1.CancelBatchResponse, error) {
	return unary(ctx, c, c.svc.CancelBatch, &jobwirev1.CancelBatchRequest{BatchId: batchID, Reason: reason})
}

// RetryJob puts a FAILED or CANCELLED job back to PENDING with a fresh set of
// attempts and returns it.
func (c *Client) RetryJob(ctx context.Context, jobID string) (*jobwirev1.Job, error) {
	resp, err := unary(ctx, c, c.svc.RetryJob, &jobwirev1.RetryJobRequest{JobId: jobID})
	return resp.GetJob(), err
}

// unary makes one unary call with the default deadline and maps its error.
func unary[Req, Resp any](
	ctx context.Context,
	c *Client,
	rpc func(context.Context, Req, ...grpc.CallOption) (Resp, error),
	req Req,
) (Resp, error) {
	if _, ok := ctx.Deadline(); !ok && c.cfg.callTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.callTimeout)
		defer cancel()
	}
	resp, err := rpc(ctx, req)
	return resp, mapError(err)
}
