/**
 * The jobwire client: a typed, thin layer over the generated Connect-ES client.
 *
 * @module
 */
import type { SecureClientSessionOptions } from "node:http2";
import {
  type CallOptions,
  type Client,
  Code,
  createClient,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { JobwireError, mapErrors } from "./errors.js";
import type {
  Batch,
  BatchEventKind,
  Job,
  JobEventKind,
} from "./gen/jobwire/v1/job_pb.js";
import {
  JobService,
  type WatchBatchResponse,
  type WatchJobResponse,
} from "./gen/jobwire/v1/job_service_pb.js";
import { isTerminalStatus, type JobInput, toJobSpec } from "./jobs.js";
import {
  defaultReconnectPolicy,
  type ReconnectPolicy,
  resumableWatch,
  type WatchOptions,
} from "./watch.js";

/** Options of {@link createJobwireClient}. */
export interface JobwireClientOptions extends TransportClientOptions {
  /**
   * Where the server listens: `host:port` (e.g. `127.0.0.1:50051`), or a URL with
   * its scheme (`http://host:port`, `https://host:port`).
   */
  address: string;
  /**
   * Use TLS: `true` for the system's trusted CAs, or Node.js `http2` TLS options
   * (`ca`, `cert`, `key`, `servername`, ...) for private CAs and client certificates.
   * Default: plaintext HTTP/2.
   */
  tls?: boolean | SecureClientSessionOptions;
  /** Sent as `authorization: Bearer <token>` with every call. */
  bearerToken?: string;
}

/** Options of {@link createJobwireClientWithTransport}. */
export interface TransportClientOptions {
  /** Timeout of every unary call, in milliseconds; watches have none. Default: none. */
  defaultTimeoutMs?: number;
  /** How watches reconnect; unset fields keep {@link defaultReconnectPolicy}. */
  reconnect?: Partial<ReconnectPolicy>;
}

/** Per-call options of the unary methods. */
export interface RequestOptions {
  /** Cancels the call; it then rejects with `CancelledError`. */
  signal?: AbortSignal;
  /** Timeout of this call in milliseconds, instead of `defaultTimeoutMs`. */
  timeoutMs?: number;
}

/** Options of {@link JobwireClient.submitJob}. */
export interface SubmitOptions extends RequestOptions {
  /** Up to 200 characters; submitting again with the same key returns the first job. */
  idempotencyKey?: string;
}

/** Options of {@link JobwireClient.submitBatch}. */
export interface SubmitBatchOptions extends SubmitOptions {
  /** Free-form name of the batch, up to 200 characters. */
  name?: string;
}

/** Options of the cancel methods. */
export interface CancelOptions extends RequestOptions {
  /** Why, recorded in each cancelled job's error message. */
  reason?: string;
}

/** What {@link JobwireClient.submitJob} returns. */
export interface SubmittedJob {
  /** The job as stored. */
  job: Job;
  /** False when the idempotency key matched an existing job, which is returned instead. */
  created: boolean;
}

/** What {@link JobwireClient.submitBatch} returns. */
export interface SubmittedBatch {
  /** The batch as stored. */
  batch: Batch;
  /** Ids of the batch's jobs, in the order they were given. */
  jobIds: string[];
  /** False when the idempotency key matched an existing batch, which is returned instead. */
  created: boolean;
}

/** What {@link JobwireClient.cancelBatch} returns. */
export interface CancelledBatch {
  /** The batch after the request. */
  batch: Batch;
  /** Jobs that were cancelled or asked to stop. */
  cancelledJobs: number;
}

/** One event of {@link JobwireClient.watchJob}. */
export interface JobUpdate {
  /** SNAPSHOT for the first event, then STATUS or PROGRESS. */
  kind: JobEventKind;
  /** The whole job as of this event; `job.version` orders the events. */
  job: Job;
}

/** One event of {@link JobwireClient.watchBatch}. */
export interface BatchUpdate {
  /** SNAPSHOT for the first event, then UPDATED. */
  kind: BatchEventKind;
  /** The whole batch as of this event; `batch.version` orders the events. */
  batch: Batch;
}

/**
 * A jobwire client. Every method rejects with a {@link JobwireError} subclass,
 * e.g. `NotFoundError` for an unknown id.
 */
export interface JobwireClient {
  /** Submits one job. */
  submitJob(job: JobInput, options?: SubmitOptions): Promise<SubmittedJob>;
  /** Submits a batch and all its jobs in one call; nothing is stored when one is invalid. */
  submitBatch(jobs: readonly JobInput[], options?: SubmitBatchOptions): Promise<SubmittedBatch>;
  /** Returns one job. */
  getJob(jobId: string, options?: RequestOptions): Promise<Job>;
  /** Returns one batch. */
  getBatch(batchId: string, options?: RequestOptions): Promise<Batch>;
  /** Cancels a job: PENDING ones at once, PROCESSING ones once their handler stops. */
  cancelJob(jobId: string, options?: CancelOptions): Promise<Job>;
  /** Cancels every job of a batch that is not terminal yet. */
  cancelBatch(batchId: string, options?: CancelOptions): Promise<CancelledBatch>;
  /**
   * Streams a job's events, a snapshot first, each version once, and finishes after
   * the event that makes the job terminal or when `options.signal` fires. Survives
   * server restarts by resuming after the last version seen.
   */
  watchJob(jobId: string, options?: WatchOptions): AsyncIterable<JobUpdate>;
  /** Like {@link JobwireClient.watchJob}, for a batch. */
  watchBatch(batchId: string, options?: WatchOptions): AsyncIterable<BatchUpdate>;
  /** The generated Connect client, for the RPCs this wrapper leaves out (ListJobs, UploadFile, ...). */
  readonly raw: Client<typeof JobService>;
}

function baseUrlOf(address: string, tls: JobwireClientOptions["tls"]): string {
  if (address.includes("://")) {
    return address;
  }
  return `${tls === undefined || tls === false ? "http" : "https"}://${address}`;
}

function bearerAuth(token: string): Interceptor {
  return (next) => (request) => {
    request.header.set("authorization", `Bearer ${token}`);
    return next(request);
  };
}

/** Throws for a response field the contract promises but the server left out. */
function present<T>(value: T | undefined, field: string): T {
  if (value === undefined) {
    throw new JobwireError(Code.Internal, `server response without ${field}`);
  }
  return value;
}

async function* jobUpdates(responses: AsyncIterable<WatchJobResponse>): AsyncIterable<JobUpdate> {
  for await (const { event } of responses) {
    if (event?.job !== undefined) {
      yield { kind: event.kind, job: event.job };
    }
  }
}

async function* batchUpdates(
  responses: AsyncIterable<WatchBatchResponse>,
): AsyncIterable<BatchUpdate> {
  for await (const { event } of responses) {
    if (event?.batch !== undefined) {
      yield { kind: event.kind, batch: event.batch };
    }
  }
}

/**
 * Connects to a jobwire server over gRPC (HTTP/2). No connection is opened until
 * the first call; an idle connection closes by itself and does not keep Node.js alive.
 *
 * @throws TypeError when `address` is not a valid `host:port` or URL.
 *
 * @example
 * ```ts
 * const client = createJobwireClient({ address: "127.0.0.1:50051", defaultTimeoutMs: 10_000 });
 * const { job } = await client.submitJob({ jobType: "sleep", params: { custom: { seconds: 1 } } });
 * for await (const { job: current } of client.watchJob(job.id)) console.log(current.status);
 * ```
 */
export function createJobwireClient(options: JobwireClientOptions): JobwireClient {
  const { address, tls, bearerToken, ...rest } = options;
  const transport = createGrpcTransport({
    baseUrl: baseUrlOf(address, tls),
    nodeOptions: typeof tls === "object" ? tls : {},
    interceptors: bearerToken === undefined ? [] : [bearerAuth(bearerToken)],
  });
  return createJobwireClientWithTransport(transport, rest);
}

/**
 * Builds a client on a Connect transport of your own, e.g. one with extra
 * interceptors or HTTP/2 settings.
 */
export function createJobwireClientWithTransport(
  transport: Transport,
  options: TransportClientOptions = {},
): JobwireClient {
  const raw = createClient(JobService, transport);
  const policy: ReconnectPolicy = { ...defaultReconnectPolicy, ...options.reconnect };
  const callOptions = (request: RequestOptions = {}): CallOptions => ({
    signal: request.signal,
    timeoutMs: request.timeoutMs ?? options.defaultTimeoutMs,
  });

  return {
    raw,

    submitJob: (job, opts = {}) =>
      mapErrors(async () => {
        const request = { job: toJobSpec(job), idempotencyKey: opts.idempotencyKey ?? "" };
        const response = await raw.submitJob(request, callOptions(opts));
        return { job: present(response.job, "job"), created: response.created };
      }),

    submitBatch: (jobs, opts = {}) =>
      mapErrors(async () => {
        const request = {
          name: opts.name ?? "",
          jobs: jobs.map(toJobSpec),
          idempotencyKey: opts.idempotencyKey ?? "",
        };
        const response = await raw.submitBatch(request, callOptions(opts));
        const batch = present(response.batch, "batch");
        return { batch, jobIds: response.jobIds, created: response.created };
      }),

    getJob: (jobId, opts) =>
      mapErrors(async () => {
        const response = await raw.getJob({ jobId }, callOptions(opts));
        return present(response.job, "job");
      }),

    getBatch: (batchId, opts) =>
      mapErrors(async () => {
        const response = await raw.getBatch({ batchId }, callOptions(opts));
        return present(response.batch, "batch");
      }),

    cancelJob: (jobId, opts = {}) =>
      mapErrors(async () => {
        const request = { jobId, reason: opts.reason ?? "" };
        const response = await raw.cancelJob(request, callOptions(opts));
        return present(response.job, "job");
      }),

    cancelBatch: (batchId, opts = {}) =>
      mapErrors(async () => {
        const request = { batchId, reason: opts.reason ?? "" };
        const response = await raw.cancelBatch(request, callOptions(opts));
        return { batch: present(response.batch, "batch"), cancelledJobs: response.cancelledJobs };
      }),

    watchJob: (jobId, opts) =>
      resumableWatch<JobUpdate>(
        {
          open: (resumeAfter, signal) => jobUpdates(raw.watchJob({ jobId, resumeAfter }, { signal })),
          version: (update) => update.job.version,
          isTerminal: (update) => isTerminalStatus(update.job.status),
        },
        policy,
        opts,
      ),

    watchBatch: (batchId, opts) =>
      resumableWatch<BatchUpdate>(
        {
          open: (resumeAfter, signal) =>
            batchUpdates(raw.watchBatch({ batchId, resumeAfter }, { signal })),
          version: (update) => update.batch.version,
          isTerminal: (update) => isTerminalStatus(update.batch.status),
        },
        policy,
        opts,
      ),
  };
}
