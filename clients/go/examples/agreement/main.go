// Command agreement submits the jobs of a SubmitBatchRequest, read from a file in
// the protobuf JSON mapping, as one batch named "agreement-go", and prints the
// batch id. The cross-client agreement test (tests/test_client_agreement.py)
// submits clients/testdata/agreement_batch.json with it, and the same file from
// Python and TypeScript, then compares what the server stored.
//
// It connects to JOBWIRE_ADDR (default 127.0.0.1:50051):
//
//	go run ./examples/agreement ../testdata/agreement_batch.json
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	jobwirev1 "github.com/jobwire/jobwire/clients/go/gen/jobwire/v1"
	"github.com/jobwire/jobwire/clients/go/jobwire"
)

// batchName names the batch, so that the stored batch tells which client sent it.
const batchName = "agreement-go"

func main() {
	log.SetFlags(0)
	log.SetPrefix("agreement: ")
	if len(os.Args) != 2 {
		log.Fatalf("usage: %s BATCH.json", os.Args[0])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	batchID, err := run(ctx, serverAddr(), os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(batchID)
}

// serverAddr returns JOBWIRE_ADDR or the address `make run` serves on.
func serverAddr() string {
	if addr := os.Getenv("JOBWIRE_ADDR"); addr != "" {
		return addr
	}
	return "127.0.0.1:50051"
}

func run(ctx context.Context, addr, path string) (string, error) {
	request, err := readBatch(path)
	if err != nil {
		return "", err
	}
	client, err := jobwire.Dial(ctx, addr)
	if err != nil {
		return "", err
	}
	defer client.Close()

	submitted, err := client.SubmitBatch(ctx, batchName, request.GetJobs())
	if err != nil {
		return "", fmt.Errorf("SubmitBatch: %w", err)
	}
	if got, want := len(submitted.GetJobIds()), len(request.GetJobs()); got != want {
		return "", fmt.Errorf("SubmitBatch returned %d job ids for %d jobs", got, want)
	}
	return submitted.GetBatch().GetId(), nil
}

// readBatch parses a SubmitBatchRequest in the protobuf JSON mapping.
func readBatch(path string) (*jobwirev1.SubmitBatchRequest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var request jobwirev1.SubmitBatchRequest
	if err := protojson.Unmarshal(data, &request); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return &request, nil
}
