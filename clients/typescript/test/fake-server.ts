// A small in-process gRPC server (Connect-ES over node:http2) standing in for jobwire,
// so the client's transport, error mapping and reconnects are tested without Python.
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import {
  type Batch,
  BatchEventKind,
  BatchSchema,
  type Job,
  JobSchema,
  JobStatus,
} from "../src/gen/jobwire/v1/job_pb.js";
import {
  JobService,
  type SubmitBatchRequest,
  type WatchBatchRequest,
} from "../src/gen/jobwire/v1/job_service_pb.js";

/** The fake's data. It outlives server restarts, like the real server's database. */
export class FakeState {
  readonly jobs = new Map<string, Job>();
  /** `authorization` headers received, in order. */
  readonly authorizations: string[] = [];
  private batchStartedAt = 0;
  private batchTotal = 0;
  private batchId = "";

  /** @param tickMs - A batch completes one job every `tickMs`, each a new version. */
  constructor(private readonly tickMs: number) {}

  submitBatch(request: SubmitBatchRequest): { batch: Batch; jobIds: string[] } {
    this.batchId = `batch-${this.jobs.size}`;
    this.batchStartedAt = Date.now();
    this.batchTotal = request.jobs.length;
    const jobIds = request.jobs.map((spec, index) => {
      const id = `${this.batchId}-job-${index}`;
      const job = create(JobSchema, { id, jobType: spec.jobType, batchId: this.batchId, version: 1n });
      job.params = spec.params;
      this.jobs.set(id, job);
      return id;
    });
    return { batch: this.batch(this.batchId), jobIds };
  }

  /** The batch as of now: its version and counts follow from the time since it was submitted. */
  batch(batchId: string): Batch {
    if (batchId !== this.batchId) {
      throw new ConnectError(`batch ${batchId} not found`, Code.NotFound);
    }
    const ticks = Math.floor((Date.now() - this.batchStartedAt) / this.tickMs);
    const completed = Math.min(this.batchTotal, ticks);
    const status =
      completed === this.batchTotal
        ? JobStatus.COMPLETED
        : completed > 0
          ? JobStatus.PROCESSING
          : JobStatus.PENDING;
    return create(BatchSchema, {
      id: batchId,
      status,
      version: BigInt(completed + 1),
      counts: { total: this.batchTotal, completed, pending: this.batchTotal - completed },
    });
  }
}

async function* watchBatch(state: FakeState, request: WatchBatchRequest, context: HandlerContext) {
  let sent = request.resumeAfter;
  while (!context.signal.aborted) {
    const batch = state.batch(request.batchId);
    if (batch.version > sent) {
      const kind = sent === 0n ? BatchEventKind.SNAPSHOT : BatchEventKind.UPDATED;
      sent = batch.version;
      yield { event: { kind, batch } };
      if (batch.status === JobStatus.COMPLETED) {
        return;
      }
    }
    await sleep(2, undefined, { signal: context.signal }).catch(() => undefined);
  }
}

function routes(state: FakeState): (router: ConnectRouter) => void {
  return (router) =>
    router.service(JobService, {
      getJob(request, context) {
        state.authorizations.push(context.requestHeader.get("authorization") ?? "");
        const job = state.jobs.get(request.jobId);
        if (job === undefined) {
          throw new ConnectError(`job ${request.jobId} not found`, Code.NotFound);
        }
        return { job };
      },
      submitBatch: (request) => ({ ...state.submitBatch(request), created: true }),
      getBatch: (request) => ({ batch: state.batch(request.batchId) }),
      watchBatch: (request, context) => watchBatch(state, request, context),
    });
}

/** A running fake server; `kill` drops every connection at once, like a crashed process. */
export interface FakeServer {
  readonly port: number;
  kill(): Promise<void>;
}

/** Starts the fake on 127.0.0.1, on `port` or a free one. */
export async function startFakeServer(state: FakeState, port = 0): Promise<FakeServer> {
  const sessions = new Set<http2.ServerHttp2Session>();
  const handler = connectNodeAdapter({ routes: routes(state), grpc: true, connect: false, grpcWeb: false });
  const server = http2.createServer(handler);
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    kill: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) {
        session.destroy();
      }
      await closed;
    },
  };
}
