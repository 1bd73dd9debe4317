// Access to the live jobwire server that tools/with_server.py (or CI) starts:
// JOBWIRE_ADDR is its host:port, JOBWIRE_HARNESS_PID a process that restarts it on SIGHUP.
import { setTimeout as sleep } from "node:timers/promises";
import { createJobwireClient, type JobwireClient, NotFoundError } from "../src/index.js";

const address = process.env["JOBWIRE_ADDR"];
const harnessPid = Number(process.env["JOBWIRE_HARNESS_PID"] ?? "") || undefined;

/** False when a live server is there, else why the live tests are skipped. */
export const skipWithoutServer: string | false =
  address === undefined || address === ""
    ? "JOBWIRE_ADDR is not set: live-server tests skipped (run them through tools/with_server.py)"
    : false;

/** False when the server can be restarted, else why the restart test is skipped. */
export const skipWithoutHarness: string | false =
  skipWithoutServer ||
  (harnessPid === undefined ? "JOBWIRE_HARNESS_PID is not set: restart test skipped" : false);

/** A client of the live server; watches reconnect for up to about a minute. */
export function liveClient(): JobwireClient {
  return createJobwireClient({
    address: address ?? "",
    defaultTimeoutMs: 10_000,
    reconnect: { initialDelayMs: 100, maxDelayMs: 1_000, maxAttempts: 60 },
  });
}

/** Asks the harness to restart the server (same address and database); returns at once. */
export function restartServer(): void {
  if (harnessPid === undefined) {
    throw new Error("JOBWIRE_HARNESS_PID is not set");
  }
  process.kill(harnessPid, "SIGHUP");
}

/** Resolves once the server answers a call again (NOT_FOUND for a made-up id counts). */
export async function waitUntilServing(client: JobwireClient, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await client.getJob("probe-no-such-job", { timeoutMs: 1_000 });
      return;
    } catch (error) {
      if (error instanceof NotFoundError) {
        return;
      }
      if (Date.now() > deadline) {
        throw error;
      }
    }
    await sleep(200);
  }
}
