package jobwire

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Sentinel errors for the status codes the service documents. Every error a
// Client method returns for a failed call matches one of them (or
// context.Canceled / context.DeadlineExceeded) with errors.Is.
var (
	// ErrNotFound: no such job, batch or artifact for this tenant.
	ErrNotFound = errors.New("jobwire: not found")
	// ErrInvalidArgument: the request is malformed; see InvalidArgumentError.
	ErrInvalidArgument = errors.New("jobwire: invalid argument")
	// ErrAlreadyExists: the object to create exists already.
	ErrAlreadyExists = errors.New("jobwire: already exists")
	// ErrFailedPrecondition: the object is in the wrong state, e.g. cancelling a terminal job.
	ErrFailedPrecondition = errors.New("jobwire: failed precondition")
	// ErrUnauthenticated: the call carries no valid credentials.
	ErrUnauthenticated = errors.New("jobwire: unauthenticated")
	// ErrPermissionDenied: the caller may not do this.
	ErrPermissionDenied = errors.New("jobwire: permission denied")
	// ErrResourceExhausted: the request is too large or a limit is reached.
	ErrResourceExhausted = errors.New("jobwire: resource exhausted")
	// ErrUnavailable: the server or its database cannot be reached; safe to retry.
	ErrUnavailable = errors.New("jobwire: unavailable")
)

var sentinels = map[codes.Code]error{
	codes.NotFound:           ErrNotFound,
	codes.InvalidArgument:    ErrInvalidArgument,
	codes.AlreadyExists:      ErrAlreadyExists,
	codes.FailedPrecondition: ErrFailedPrecondition,
	codes.Unauthenticated:    ErrUnauthenticated,
	codes.PermissionDenied:   ErrPermissionDenied,
	codes.ResourceExhausted:  ErrResourceExhausted,
	codes.Unavailable:        ErrUnavailable,
	codes.Canceled:           context.Canceled,
	codes.DeadlineExceeded:   context.DeadlineExceeded,
}

// StatusError is a call that failed with a gRPC status. errors.Is matches it
// against the sentinel of its code, and status.FromError still reads it.
type StatusError struct {
	// Code is the gRPC status code.
	Code codes.Code
	// Message is the server's explanation.
	Message string

	status *status.Status
}

// Error returns the code and the server's message.
func (e *StatusError) Error() string {
	return fmt.Sprintf("jobwire: %s: %s", e.Code, e.Message)
}

// Is reports whether target is the sentinel error of e's code.
func (e *StatusError) Is(target error) bool {
	sentinel, ok := sentinels[e.Code]
	return ok && target == sentinel
}

// GRPCStatus returns the original status, for status.FromError and status.Code.
func (e *StatusError) GRPCStatus() *status.Status {
	return e.status
}

// InvalidArgumentError is a request the server rejected as malformed
// (INVALID_ARGUMENT). It matches ErrInvalidArgument with errors.Is and wraps
// the *StatusError.
type InvalidArgumentError struct {
	// Message names the offending field (and, for a batch, the job index).
	Message string

	err *StatusError
}

// Error returns the server's message.
func (e *InvalidArgumentError) Error() string {
	return "jobwire: invalid argument: " + e.Message
}

// Unwrap returns the underlying *StatusError.
func (e *InvalidArgumentError) Unwrap() error {
	return e.err
}

// mapError turns a gRPC error into a *StatusError or *InvalidArgumentError;
// other errors, and nil, pass through.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	se := &StatusError{Code: st.Code(), Message: st.Message(), status: st}
	if se.Code == codes.InvalidArgument {
		return &InvalidArgumentError{Message: se.Message, err: se}
	}
	return se
}
