// The batch every client (Python, Go, TypeScript) submits to check that they agree
// on how custom params travel: test/agreement_batch.json, shared verbatim.
import { readFile } from "node:fs/promises";
import type { JsonObject } from "@bufbuild/protobuf";
import type { JobInput } from "../src/index.js";

/** The shape of agreement_batch.json (snake_case, as all clients read it). */
export interface AgreementBatch {
  name: string;
  jobs: { job_type: string; params: JsonObject }[];
}

/** Compiled tests run from dist/test/, the JSON file stays in test/. */
const file = new URL("../../test/agreement_batch.json", import.meta.url);

export async function loadAgreementBatch(): Promise<AgreementBatch> {
  return JSON.parse(await readFile(file, "utf8")) as AgreementBatch;
}

export function agreementJobs(batch: AgreementBatch): JobInput[] {
  return batch.jobs.map((job) => ({ jobType: job.job_type, params: { custom: job.params } }));
}
