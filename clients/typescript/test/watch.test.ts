// Unit tests of the resumable watch loop with scripted streams; no server needed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { NotFoundError, UnavailableError } from "../src/errors.js";
import {
  type ReconnectInfo,
  type ReconnectPolicy,
  type ResumableStream,
  resumableWatch,
} from "../src/watch.js";

interface Event {
  version: bigint;
  terminal: boolean;
}

/** One scripted connection: the events it sends, then how it ends. */
interface Connection {
  events: Event[];
  thenFail?: Error;
}

const fastPolicy: ReconnectPolicy = { initialDelayMs: 1, maxDelayMs: 5, maxAttempts: 3 };

function ev(version: number, terminal = false): Event {
  return { version: BigInt(version), terminal };
}

/** A stream that plays `connections` in order and records each `resumeAfter` it was opened with. */
function scripted(connections: Connection[]): ResumableStream<Event> & { opened: bigint[] } {
  const opened: bigint[] = [];
  return {
    opened,
    async *open(resumeAfter) {
      opened.push(resumeAfter);
      const connection = connections.shift() ?? { events: [] };
      yield* connection.events;
      if (connection.thenFail !== undefined) {
        throw connection.thenFail;
      }
    },
    version: (event) => event.version,
    isTerminal: (event) => event.terminal,
  };
}

async function collect(
  stream: ResumableStream<Event>,
  policy = fastPolicy,
  onReconnect?: (info: ReconnectInfo) => void,
): Promise<number[]> {
  const versions: number[] = [];
  for await (const event of resumableWatch(stream, policy, { onReconnect })) {
    versions.push(Number(event.version));
  }
  return versions;
}

describe("resumableWatch", () => {
  it("yields every event once and stops after the terminal one", async () => {
    const stream = scripted([{ events: [ev(1), ev(2), ev(3, true), ev(4)] }]);
    assert.deepEqual(await collect(stream), [1, 2, 3]);
    assert.deepEqual(stream.opened, [0n]);
  });

  it("reconnects after UNAVAILABLE, resumes after the last version, drops repeats", async () => {
    const unavailable = new ConnectError("server restarting", Code.Unavailable);
    const stream = scripted([
      { events: [ev(1), ev(2)], thenFail: unavailable },
      { events: [ev(2), ev(3), ev(4, true)] },
    ]);
    const reconnects: ReconnectInfo[] = [];
    assert.deepEqual(await collect(stream, fastPolicy, (info) => reconnects.push(info)), [
      1, 2, 3, 4,
    ]);
    assert.deepEqual(stream.opened, [0n, 2n]);
    assert.equal(reconnects.length, 1);
    assert.ok(reconnects[0]?.error instanceof UnavailableError);
  });

  it("reconnects when the stream ends before the terminal event", async () => {
    const stream = scripted([{ events: [ev(1)] }, { events: [ev(2, true)] }]);
    assert.deepEqual(await collect(stream), [1, 2]);
    assert.deepEqual(stream.opened, [0n, 1n]);
  });

  it("treats a connection reset (ABORTED) and a stream reset (CANCELED) as transient", async () => {
    const stream = scripted([
      { events: [ev(1)], thenFail: new ConnectError("read ECONNRESET", Code.Aborted) },
      { events: [ev(2)], thenFail: new ConnectError("RST_STREAM CANCEL", Code.Canceled) },
      { events: [ev(3, true)] },
    ]);
    assert.deepEqual(await collect(stream), [1, 2, 3]);
  });

  it("throws errors a reconnect would not cure at once", async () => {
    const stream = scripted([{ events: [], thenFail: new ConnectError("no batch", Code.NotFound) }]);
    await assert.rejects(collect(stream), NotFoundError);
    assert.equal(stream.opened.length, 1);
  });

  it("gives up after maxAttempts reconnects without a new event", async () => {
    const down = (): Connection => ({
      events: [],
      thenFail: new ConnectError("connect ECONNREFUSED", Code.Unavailable),
    });
    const stream = scripted([down(), down(), down(), down(), down()]);
    await assert.rejects(collect(stream), UnavailableError);
    assert.equal(stream.opened.length, fastPolicy.maxAttempts + 1);
  });

  it("finishes quietly when the signal fires while it waits to reconnect", async () => {
    const controller = new AbortController();
    const stream = scripted([{ events: [ev(1)] }]);
    const slowPolicy: ReconnectPolicy = { initialDelayMs: 60_000, maxDelayMs: 60_000, maxAttempts: 3 };
    const versions: number[] = [];
    const watch = resumableWatch(stream, slowPolicy, {
      signal: controller.signal,
      onReconnect: () => controller.abort(),
    });
    for await (const event of watch) {
      versions.push(Number(event.version));
    }
    assert.deepEqual(versions, [1]);
  });

  it("starts after options.resumeAfter", async () => {
    const stream = scripted([{ events: [ev(5), ev(6, true)] }]);
    const versions: number[] = [];
    for await (const event of resumableWatch(stream, fastPolicy, { resumeAfter: 5n })) {
      versions.push(Number(event.version));
    }
    assert.deepEqual(versions, [6]);
    assert.deepEqual(stream.opened, [5n]);
  });
});
