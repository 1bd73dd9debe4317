package jobwire

import (
	"fmt"

	jobwirev1 "github.com/jobwire/jobwire/clients/go/gen/jobwire/v1"
)

// JobError codes the service documents; new codes may be added, so treat
// unknown ones like CodeHandlerError.
const (
	CodeUnknownJobType    = "UNKNOWN_JOB_TYPE"
	CodeInvalidParameters = "INVALID_PARAMETERS"
	CodeHandlerError      = "HANDLER_ERROR"
	CodeTimeout           = "TIMEOUT"
	CodeCancelled         = "CANCELLED"
	CodeLeaseExpired      = "LEASE_EXPIRED"
	CodeInputNotFound     = "INPUT_NOT_FOUND"
	CodeInputRejected     = "INPUT_REJECTED"
	CodeInputCorrupt      = "INPUT_CORRUPT"
	CodeInputEncrypted    = "INPUT_ENCRYPTED"
	CodeInputTooLarge     = "INPUT_TOO_LARGE"
)

// JobError is why a job ended FAILED or CANCELLED, as a Go error. Its fields
// copy the job's jobwirev1.JobError.
type JobError struct {
	// JobID is the job's id.
	JobID string
	// Status is the job's terminal status.
	Status jobwirev1.JobStatus
	// Code is a stable upper-case code such as CodeHandlerError.
	Code string
	// Message is a human-readable explanation.
	Message string
	// Retryable is true when the failure was passing (the attempts ran out).
	Retryable bool
	// Attempt is the 1-based attempt that failed.
	Attempt int32
	// Details holds extra facts, e.g. {"field": "pages"}.
	Details map[string]string
}

// Error returns the job id, its code and message.
func (e *JobError) Error() string {
	return fmt.Sprintf("jobwire: job %s %s: %s: %s", e.JobID, e.Status, e.Code, e.Message)
}

// JobFailure returns a *JobError when job is FAILED or CANCELLED, and nil
// otherwise. Read the code with errors.As:
//
//	var jobErr *jobwire.JobError
//	if errors.As(jobwire.JobFailure(job), &jobErr) && jobErr.Code == jobwire.CodeInputNotFound { ... }
func JobFailure(job *jobwirev1.Job) error {
	status := job.GetStatus()
	if status != jobwirev1.JobStatus_JOB_STATUS_FAILED && status != jobwirev1.JobStatus_JOB_STATUS_CANCELLED {
		return nil
	}
	e := job.GetError()
	return &JobError{
		JobID:     job.GetId(),
		Status:    status,
		Code:      e.GetCode(),
		Message:   e.GetMessage(),
		Retryable: e.GetRetryable(),
		Attempt:   e.GetAttempt(),
		Details:   e.GetDetails(),
	}
}

// IsTerminal reports whether a job or batch in this status is finished:
// COMPLETED, FAILED or CANCELLED.
func IsTerminal(status jobwirev1.JobStatus) bool {
	switch status {
	case jobwirev1.JobStatus_JOB_STATUS_COMPLETED,
		jobwirev1.JobStatus_JOB_STATUS_FAILED,
		jobwirev1.JobStatus_JOB_STATUS_CANCELLED:
		return true
	default:
		return false
	}
}
