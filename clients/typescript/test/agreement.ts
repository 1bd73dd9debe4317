// The batch every client (Python, Go, TypeScript) submits to check that they agree
// on how custom params travel: clients/testdata/agreement_batch.json, one file shared
// by all clients. It is a SubmitBatchRequest in protobuf JSON with proto field names.
import { readFile } from "node:fs/promises";
import type { JsonObject } from "@bufbuild/protobuf";
import type { JobInput } from "../src/index.js";

/** The agreement batch: each job's custom params as the plain JSON the file holds. */
export interface AgreementBatch {
  name: string;
  jobs: { job_type: string; params: JsonObject }[];
}

/** The shape of agreement_batch.json. */
interface AgreementFile {
  name: string;
  jobs: { job_type: string; params: { custom: JsonObject } }[];
}

/** Compiled tests run from dist/test/; the shared file is clients/testdata/. */
const file = new URL("../../../testdata/agreement_batch.json", import.meta.url);

export async function loadAgreementBatch(): Promise<AgreementBatch> {
  const batch = JSON.parse(await readFile(file, "utf8")) as AgreementFile;
  return {
    name: batch.name,
    jobs: batch.jobs.map((job) => ({ job_type: job.job_type, params: job.params.custom })),
  };
}

export function agreementJobs(batch: AgreementBatch): JobInput[] {
  return batch.jobs.map((job) => ({ jobType: job.job_type, params: { custom: job.params } }));
}
