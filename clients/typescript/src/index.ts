/**
 * `@jobwire/client`: the TypeScript client of the jobwire job service.
 *
 * Start with {@link createJobwireClient}. The generated messages, enums and the
 * `JobService` descriptor are re-exported for typed access to every field.
 *
 * @packageDocumentation
 */
export {
  type BatchUpdate,
  type CancelledBatch,
  type CancelOptions,
  createJobwireClient,
  createJobwireClientWithTransport,
  type JobUpdate,
  type JobwireClient,
  type JobwireClientOptions,
  type RequestOptions,
  type SubmitBatchOptions,
  type SubmitOptions,
  type SubmittedBatch,
  type SubmittedJob,
  type TransportClientOptions,
} from "./client.js";
export {
  AlreadyExistsError,
  CancelledError,
  DeadlineExceededError,
  FailedPreconditionError,
  InvalidArgumentError,
  JobwireError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  toJobwireError,
  UnauthenticatedError,
  UnavailableError,
} from "./errors.js";
export {
  customParamsOf,
  customResultOf,
  isTerminalStatus,
  type JobInput,
  jobFailure,
  type OcrParamsInit,
  type ParamsInput,
  type PdfParamsInit,
  type SessionParamsInit,
  toJobSpec,
} from "./jobs.js";
export {
  defaultReconnectPolicy,
  type ReconnectInfo,
  type ReconnectPolicy,
  type WatchOptions,
} from "./watch.js";
export { Code } from "@connectrpc/connect";
export * from "./gen/jobwire/v1/documents_pb.js";
export * from "./gen/jobwire/v1/job_pb.js";
export * from "./gen/jobwire/v1/job_service_pb.js";
