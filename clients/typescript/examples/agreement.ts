// Submits the jobs of a SubmitBatchRequest, read from a file in the protobuf JSON
// mapping, as one batch named "agreement-ts", and prints the batch id. The
// cross-client agreement test (tests/test_client_agreement.py) submits
// clients/testdata/agreement_batch.json with it, and the same file from Python and
// Go, then compares what the server stored.
//
//   npm run build && JOBWIRE_ADDR=127.0.0.1:50051 node dist/examples/agreement.js ../testdata/agreement_batch.json
import { readFile } from "node:fs/promises";
import { fromJsonString } from "@bufbuild/protobuf";
import {
  createJobwireClient,
  type JobInput,
  type JobSpec,
  JobwireError,
  SubmitBatchRequestSchema,
} from "../src/index.js";

/** Names the batch, so that the stored batch tells which client sent it. */
const batchName = "agreement-ts";

/** The job input of a spec with custom params (the only kind the agreement batch has). */
function jobInputOf(spec: JobSpec, index: number): JobInput {
  const kind = spec.params?.kind;
  if (kind !== undefined && kind.case !== "custom") {
    throw new Error(`jobs[${index}]: only custom params are supported here, not ${kind.case}`);
  }
  return {
    jobType: spec.jobType,
    params: kind === undefined ? undefined : { custom: kind.value },
    priority: spec.priority,
    maxAttempts: spec.maxAttempts,
  };
}

async function main(): Promise<void> {
  const [path, ...extra] = process.argv.slice(2);
  if (path === undefined || extra.length > 0) {
    throw new Error("usage: node dist/examples/agreement.js BATCH.json");
  }
  const address = process.env["JOBWIRE_ADDR"] ?? "127.0.0.1:50051";
  const request = fromJsonString(SubmitBatchRequestSchema, await readFile(path, "utf8"));
  const client = createJobwireClient({ address, defaultTimeoutMs: 30_000 });
  const { batch, jobIds } = await client.submitBatch(request.jobs.map(jobInputOf), { name: batchName });
  if (jobIds.length !== request.jobs.length) {
    throw new Error(`submitBatch returned ${jobIds.length} job ids for ${request.jobs.length} jobs`);
  }
  console.log(batch.id);
}

main().catch((error: unknown) => {
  const reason = error instanceof JobwireError ? `${error.name}: ${error.message}` : error;
  console.error("agreement failed:", reason);
  process.exitCode = 1;
});
