package jobwire

import (
	"fmt"

	"google.golang.org/protobuf/types/known/structpb"

	jobwirev1 "github.com/jobwire/jobwire/clients/go/gen/jobwire/v1"
)

// CustomJob returns a JobSpec for a job type with free-form parameters, such
// as "noop" or "sleep". values must hold only what structpb.NewStruct accepts:
// nil, bool, numbers, string, []any and map[string]any.
func CustomJob(jobType string, values map[string]any) (*jobwirev1.JobSpec, error) {
	params, err := structpb.NewStruct(values)
	if err != nil {
		return nil, fmt.Errorf("jobwire: parameters of %q: %w", jobType, err)
	}
	return &jobwirev1.JobSpec{
		JobType: jobType,
		Params:  &jobwirev1.JobParams{Kind: &jobwirev1.JobParams_Custom{Custom: params}},
	}, nil
}

// PdfJob returns a JobSpec for the "pdf" job type.
func PdfJob(params *jobwirev1.PdfParams) *jobwirev1.JobSpec {
	return &jobwirev1.JobSpec{
		JobType: "pdf",
		Params:  &jobwirev1.JobParams{Kind: &jobwirev1.JobParams_Pdf{Pdf: params}},
	}
}

// OcrJob returns a JobSpec for the "ocr" job type.
func OcrJob(params *jobwirev1.OcrParams) *jobwirev1.JobSpec {
	return &jobwirev1.JobSpec{
		JobType: "ocr",
		Params:  &jobwirev1.JobParams{Kind: &jobwirev1.JobParams_Ocr{Ocr: params}},
	}
}

// SessionJob returns a JobSpec for the "session" job type.
func SessionJob(params *jobwirev1.SessionParams) *jobwirev1.JobSpec {
	return &jobwirev1.JobSpec{
		JobType: "session",
		Params:  &jobwirev1.JobParams{Kind: &jobwirev1.JobParams_Session{Session: params}},
	}
}
