/**
 * Building job specifications and reading jobs back.
 *
 * @module
 */
import { create, type JsonObject, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type {
  OcrParamsSchema,
  PdfParamsSchema,
  SessionParamsSchema,
} from "./gen/jobwire/v1/documents_pb.js";
import {
  JobStatus,
  type Job,
  type JobError,
  type JobParams,
  JobParamsSchema,
} from "./gen/jobwire/v1/job_pb.js";
import { type JobSpec, JobSpecSchema } from "./gen/jobwire/v1/job_service_pb.js";

/** Parameters of a `pdf` job, as a plain object (fields optional, oneofs as `{ case, value }`). */
export type PdfParamsInit = MessageInitShape<typeof PdfParamsSchema>;

/** Parameters of an `ocr` job, as a plain object. */
export type OcrParamsInit = MessageInitShape<typeof OcrParamsSchema>;

/** Parameters of a `session` job, as a plain object. */
export type SessionParamsInit = MessageInitShape<typeof SessionParamsSchema>;

/**
 * A job's parameters: typed messages for the built-in job types, plain JSON for
 * every other registered type (`noop`, `sleep`, ...).
 *
 * @example
 * ```ts
 * const pdf: ParamsInput = { pdf: { source: { case: "filePath", value: "/in/a.pdf" } } };
 * const sleep: ParamsInput = { custom: { seconds: 0.5 } };
 * ```
 */
export type ParamsInput =
  | { pdf: PdfParamsInit }
  | { ocr: OcrParamsInit }
  | { session: SessionParamsInit }
  | { custom: JsonObject };

/** One job to submit. */
export interface JobInput {
  /** A registered job type, e.g. `"pdf"` or `"sleep"`. */
  jobType: string;
  /** Parameters matching the job type. */
  params?: ParamsInput;
  /** Higher runs first among due jobs; default 0, range -100 to 100. */
  priority?: number;
  /** Do not start before this time; unset means now. */
  runAt?: Date;
  /** Attempts allowed, from 1 to 20; unset means the job type's default. */
  maxAttempts?: number;
}

/** Statuses after which a job (or batch) no longer changes on its own. */
const terminalStatuses: ReadonlySet<JobStatus> = new Set([
  JobStatus.COMPLETED,
  JobStatus.FAILED,
  JobStatus.CANCELLED,
]);

/** True for COMPLETED, FAILED and CANCELLED: a job or batch in it is finished. */
export function isTerminalStatus(status: JobStatus): boolean {
  return terminalStatuses.has(status);
}

function toJobParams(params: ParamsInput): JobParams {
  if ("pdf" in params) {
    return create(JobParamsSchema, { kind: { case: "pdf", value: params.pdf } });
  }
  if ("ocr" in params) {
    return create(JobParamsSchema, { kind: { case: "ocr", value: params.ocr } });
  }
  if ("session" in params) {
    return create(JobParamsSchema, { kind: { case: "session", value: params.session } });
  }
  return create(JobParamsSchema, { kind: { case: "custom", value: params.custom } });
}

/** Converts a {@link JobInput} to the `JobSpec` message the service takes. */
export function toJobSpec(input: JobInput): JobSpec {
  return create(JobSpecSchema, {
    jobType: input.jobType,
    params: input.params === undefined ? undefined : toJobParams(input.params),
    priority: input.priority ?? 0,
    runAt: input.runAt === undefined ? undefined : timestampFromDate(input.runAt),
    maxAttempts: input.maxAttempts ?? 0,
  });
}

/** The JSON parameters of a job of a custom type; undefined for typed parameters. */
export function customParamsOf(job: Job): JsonObject | undefined {
  const kind = job.params?.kind;
  return kind?.case === "custom" ? kind.value : undefined;
}

/** The JSON result of a completed job of a custom type; undefined otherwise. */
export function customResultOf(job: Job): JsonObject | undefined {
  const kind = job.result?.kind;
  return kind?.case === "custom" ? kind.value : undefined;
}

/**
 * Why a FAILED job failed: its `JobError` (branch on `code`, e.g.
 * `INPUT_NOT_FOUND`; `retryable` tells a passing failure from a permanent one).
 * Undefined when the job is not FAILED.
 *
 * @example
 * ```ts
 * const failure = jobFailure(job);
 * if (failure?.code === "INPUT_REJECTED") console.error(failure.message);
 * ```
 */
export function jobFailure(job: Job): JobError | undefined {
  return job.status === JobStatus.FAILED ? job.error : undefined;
}
