package jobwire_test

import (
	"os"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	jobwirev1 "github.com/jobwire/jobwire/clients/go/gen/jobwire/v1"
)

// agreementBatch is the batch every client (Go, Python, TypeScript) submits to
// check that custom parameters survive the round trip unchanged: a
// SubmitBatchRequest in the protobuf JSON mapping, one file shared by all clients
// (clients/testdata, relative to this package's directory).
const agreementBatch = "../../testdata/agreement_batch.json"

func TestAgreementBatchParamsRoundTrip(t *testing.T) {
	client := liveClient(t)
	ctx := testContext(t, 30*time.Second)
	want := loadAgreementBatch(t)

	resp, err := client.SubmitBatch(ctx, want.GetName(), want.GetJobs())
	if err != nil {
		t.Fatalf("SubmitBatch: %v", err)
	}
	if len(resp.GetJobIds()) != len(want.GetJobs()) {
		t.Fatalf("SubmitBatch returned %d job ids for %d jobs", len(resp.GetJobIds()), len(want.GetJobs()))
	}

	for i, id := range resp.GetJobIds() {
		job, err := client.GetJob(ctx, id)
		if err != nil {
			t.Fatalf("GetJob(%s): %v", id, err)
		}
		got, wantParams := job.GetParams().GetCustom(), want.GetJobs()[i].GetParams().GetCustom()
		t.Logf("job %d (%s) stored params: %s", i, id, protojson.Format(got))
		if !proto.Equal(got, wantParams) {
			t.Errorf("job %d (%s) params differ:\n got  %s\n want %s",
				i, id, protojson.Format(got), protojson.Format(wantParams))
		}
	}
}

// loadAgreementBatch reads the shared agreement batch.
func loadAgreementBatch(t *testing.T) *jobwirev1.SubmitBatchRequest {
	t.Helper()
	data, err := os.ReadFile(agreementBatch)
	if err != nil {
		t.Fatalf("read agreement batch: %v", err)
	}
	var req jobwirev1.SubmitBatchRequest
	if err := protojson.Unmarshal(data, &req); err != nil {
		t.Fatalf("parse %s: %v", agreementBatch, err)
	}
	return &req
}
