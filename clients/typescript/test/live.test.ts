// Tests against a live jobwire server; skipped without JOBWIRE_ADDR.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Batch,
  customParamsOf,
  jobFailure,
  type JobInput,
  type JobwireClient,
  JobStatus,
  NotFoundError,
  type ReconnectInfo,
} from "../src/index.js";
import { agreementJobs, loadAgreementBatch } from "./agreement.js";
import {
  liveClient,
  restartServer,
  skipWithoutHarness,
  skipWithoutServer,
  waitUntilServing,
} from "./live-harness.js";

/** Options of every live test: skipped without a server, generous timeout. */
const live = { timeout: 120_000, skip: skipWithoutServer };

function sleepJobs(count: number, seconds: number): JobInput[] {
  return Array.from({ length: count }, () => ({ jobType: "sleep", params: { custom: { seconds } } }));
}

/** Asserts each event is newer than the one before: none was yielded twice. */
function assertStrictlyIncreasing(versions: readonly bigint[]): void {
  versions.slice(1).forEach((version, index) => {
    const before = versions[index] ?? 0n;
    assert.ok(version > before, `version ${version} followed ${before}`);
  });
}

describe("live jobwire server", () => {
  let cached: JobwireClient | undefined;
  const client = (): JobwireClient => (cached ??= liveClient());

  it("watchBatch: completed count rises, never falls, batch ends COMPLETED", live, async () => {
    const { batch } = await client().submitBatch(sleepJobs(10, 0.2), { name: "ts-watch" });
    const completed: number[] = [];
    let last: Batch = batch;
    for await (const update of client().watchBatch(batch.id, { signal: AbortSignal.timeout(60_000) })) {
      completed.push(update.batch.counts?.completed ?? 0);
      last = update.batch;
    }
    assert.equal(last.status, JobStatus.COMPLETED);
    assert.equal(last.counts?.completed, 10);
    completed.slice(1).forEach((count, index) => {
      assert.ok(count >= (completed[index] ?? 0), `completed fell: ${completed.join(", ")}`);
    });
    assert.ok((completed[0] ?? 0) < 10, `the first event already showed ${completed[0]} completed`);
  });

  it("a permanently failing job ends FAILED with a readable JobError", live, async () => {
    const params = { custom: { seconds: 0.01, fail: "permanent" } };
    const submitted = await client().submitJob({ jobType: "sleep", params });
    let job = submitted.job;
    for await (const update of client().watchJob(job.id, { signal: AbortSignal.timeout(60_000) })) {
      job = update.job;
    }
    assert.equal(job.status, JobStatus.FAILED);
    const failure = jobFailure(job);
    assert.ok(failure !== undefined && failure.code !== "", "FAILED job without an error code");
    assert.equal(failure.retryable, false);
  });

  it("getJob with an unknown id rejects with NotFoundError", live, async () => {
    await assert.rejects(client().getJob("ts-no-such-job-0000"), NotFoundError);
  });

  it("agreement batch: stored custom params equal the submitted JSON", live, async () => {
    const agreement = await loadAgreementBatch();
    const { jobIds } = await client().submitBatch(agreementJobs(agreement), { name: agreement.name });
    assert.equal(jobIds.length, agreement.jobs.length);
    for (const [index, jobId] of jobIds.entries()) {
      const job = await client().getJob(jobId);
      assert.deepEqual(customParamsOf(job), agreement.jobs[index]?.params);
    }
  });

  it("watchBatch resumes across a server restart", { ...live, skip: skipWithoutHarness }, async () => {
    const { batch } = await client().submitBatch(sleepJobs(10, 0.5), { name: "ts-resume" });
    const versions: bigint[] = [];
    const reconnects: ReconnectInfo[] = [];
    const onReconnect = (info: ReconnectInfo) => reconnects.push(info);
    let last: Batch = batch;
    const signal = AbortSignal.timeout(100_000);
    let restarted = false;
    for await (const update of client().watchBatch(batch.id, { signal, onReconnect })) {
      versions.push(update.batch.version);
      last = update.batch;
      if (!restarted && update.batch.status === JobStatus.PROCESSING) {
        restartServer();
        restarted = true;
      }
    }
    await waitUntilServing(client());
    assert.equal(last.status, JobStatus.COMPLETED, `watch ended with batch ${JobStatus[last.status]}`);
    assert.equal(last.counts?.completed, 10);
    assert.ok(reconnects.length >= 1, "the watch never reconnected");
    assertStrictlyIncreasing(versions);
  });
});
