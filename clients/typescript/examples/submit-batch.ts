// Submits a batch of `sleep` jobs to a jobwire server and watches it to completion.
//
//   JOBWIRE_ADDR=127.0.0.1:50051 npm run example
//
// Ctrl-C stops watching (the batch keeps running on the server).
import { createJobwireClient, JobStatus, JobwireError } from "../src/index.js";

const address = process.env["JOBWIRE_ADDR"] ?? "127.0.0.1:50051";
const jobCount = 8;

async function main(): Promise<void> {
  const client = createJobwireClient({ address, defaultTimeoutMs: 10_000 });
  const jobs = Array.from({ length: jobCount }, (_, index) => ({
    jobType: "sleep",
    params: { custom: { seconds: 0.5 + index * 0.1, steps: 5 } },
  }));
  const { batch } = await client.submitBatch(jobs, { name: "example: sleep batch" });
  console.log(`submitted batch ${batch.id} with ${jobCount} jobs to ${address}`);

  const stop = new AbortController();
  process.once("SIGINT", () => stop.abort());
  const onReconnect = () => console.log("stream broke, reconnecting...");
  let status = batch.status;
  for await (const { batch: current } of client.watchBatch(batch.id, { signal: stop.signal, onReconnect })) {
    const counts = current.counts;
    status = current.status;
    console.log(
      `${JobStatus[status].padEnd(10)} completed ${counts?.completed ?? 0}/${counts?.total ?? 0}` +
        `, processing ${counts?.processing ?? 0}, pending ${counts?.pending ?? 0}` +
        `, failed ${counts?.failed ?? 0}, cancelled ${counts?.cancelled ?? 0}`,
    );
  }
  const outcome = stop.signal.aborted ? "stopped watching at" : "ended";
  console.log(`batch ${batch.id} ${outcome} ${JobStatus[status]}`);
}

main().catch((error: unknown) => {
  const reason = error instanceof JobwireError ? `${error.name}: ${error.message}` : error;
  console.error("submit-batch failed:", reason);
  process.exitCode = 1;
});
