// Package jobwire is a thin Go client for the jobwire job service.
//
// It wraps the generated gRPC stub in package
// github.com/jobwire/jobwire/clients/go/gen/jobwire/v1 (imported as jobwirev1):
// requests and responses are the generated messages, while the client adds
// connection setup (TLS, bearer tokens), a default deadline per call, typed
// errors, and watches that survive a server restart.
//
// A minimal program:
//
//	client, err := jobwire.Dial(ctx, "127.0.0.1:50051")
//	if err != nil {
//		return err
//	}
//	defer client.Close()
//
//	spec, err := jobwire.CustomJob("sleep", map[string]any{"seconds": 0.5})
//	if err != nil {
//		return err
//	}
//	submitted, err := client.SubmitJob(ctx, spec)
//	if err != nil {
//		return err
//	}
//	for event, err := range client.WatchJob(ctx, submitted.GetJob().GetId()) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(event.GetJob().GetStatus())
//	}
package jobwire
