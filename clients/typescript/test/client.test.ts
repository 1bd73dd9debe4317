// The client against an in-process fake server over real gRPC/HTTP/2; no jobwire needed.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ConnectError } from "@connectrpc/connect";
import {
  createJobwireClient,
  customParamsOf,
  JobStatus,
  NotFoundError,
  type ReconnectInfo,
} from "../src/index.js";
import { type AgreementBatch, agreementJobs, loadAgreementBatch } from "./agreement.js";
import { FakeState, type FakeServer, startFakeServer } from "./fake-server.js";

describe("client against a fake server", () => {
  const state = new FakeState(15);
  let server: FakeServer;
  let agreement: AgreementBatch;

  before(async () => {
    server = await startFakeServer(state);
    agreement = await loadAgreementBatch();
  });
  after(() => server.kill());

  const client = () =>
    createJobwireClient({
      address: `127.0.0.1:${server.port}`,
      bearerToken: "secret-token",
      defaultTimeoutMs: 5_000,
      reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    });

  it("rejects an unknown job id with NotFoundError and sends the bearer token", async () => {
    const error = await client()
      .getJob("no-such-job")
      .then(
        () => assert.fail("getJob resolved"),
        (reason: unknown) => reason,
      );
    assert.ok(error instanceof NotFoundError);
    assert.ok(error.cause instanceof ConnectError);
    assert.equal(state.authorizations.at(-1), "Bearer secret-token");
  });

  it("sends custom params as a Struct and reads them back unchanged", async () => {
    const jobwire = client();
    const { jobIds } = await jobwire.submitBatch(agreementJobs(agreement), { name: agreement.name });
    assert.equal(jobIds.length, agreement.jobs.length);
    for (const [index, jobId] of jobIds.entries()) {
      const job = await jobwire.getJob(jobId);
      assert.deepEqual(customParamsOf(job), agreement.jobs[index]?.params);
    }
  });

  it("resumes a watch across a server crash without repeating an event", async () => {
    const jobwire = client();
    const jobs = Array.from({ length: 20 }, () => ({ jobType: "sleep" }));
    const { batch } = await jobwire.submitBatch(jobs);
    const versions: bigint[] = [];
    const reconnects: ReconnectInfo[] = [];
    const onReconnect = (info: ReconnectInfo) => reconnects.push(info);
    let last = batch;
    for await (const update of jobwire.watchBatch(batch.id, { onReconnect })) {
      versions.push(update.batch.version);
      last = update.batch;
      if (versions.length === 3) {
        await server.kill();
        server = await startFakeServer(state, server.port);
      }
    }
    assert.equal(last.status, JobStatus.COMPLETED);
    assert.ok(reconnects.length >= 1, "the watch never reconnected");
    assert.deepEqual(versions, [...new Set(versions)].sort((a, b) => Number(a - b)));
  });
});
