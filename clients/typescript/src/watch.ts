/**
 * Resumable server streams: WatchJob and WatchBatch survive server restarts.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Code } from "@connectrpc/connect";
import { type JobwireError, toJobwireError, UnavailableError } from "./errors.js";

/** How a watch reconnects after its stream broke. */
export interface ReconnectPolicy {
  /** Delay before the first reconnect, in milliseconds; it doubles with every failure. */
  initialDelayMs: number;
  /** Upper bound of the delay between two reconnects, in milliseconds. */
  maxDelayMs: number;
  /** Reconnects in a row without a new event before the watch gives up and throws. */
  maxAttempts: number;
}

/** The policy used unless the client options say otherwise: about a minute in all. */
export const defaultReconnectPolicy: Readonly<ReconnectPolicy> = {
  initialDelayMs: 100,
  maxDelayMs: 5_000,
  maxAttempts: 20,
};

/** What a watch reports before it reconnects. */
export interface ReconnectInfo {
  /** 1 for the first reconnect after the last new event, then 2, 3, ... */
  attempt: number;
  /** How long the watch waits before it reconnects. */
  delayMs: number;
  /** The version the new stream resumes after. */
  resumeAfter: bigint;
  /** Why the stream broke; undefined when it ended before a terminal event. */
  error: JobwireError | undefined;
}

/** Options of `watchJob` and `watchBatch`. */
export interface WatchOptions {
  /** Ends the watch: the iteration finishes quietly once this signal fires. */
  signal?: AbortSignal;
  /** Start after this version instead of with a snapshot (e.g. a version kept from before). */
  resumeAfter?: bigint;
  /** Called before every reconnect, e.g. for logging. */
  onReconnect?: (info: ReconnectInfo) => void;
}

/**
 * One server stream that can be reopened after a given version.
 *
 * @internal
 */
export interface ResumableStream<E> {
  /** Opens the stream; it sends only events newer than `resumeAfter`. */
  open(resumeAfter: bigint, signal: AbortSignal | undefined): AsyncIterable<E>;
  /** The version that orders the events. */
  version(event: E): bigint;
  /** True for the event after which the server ends the stream. */
  isTerminal(event: E): boolean;
}

/** Codes with which a stream breaks when the server restarts or the connection drops. */
const transientCodes: ReadonlySet<Code> = new Set([
  Code.Unavailable,
  Code.Aborted,
  Code.Canceled,
  Code.Internal,
]);

interface WatchState {
  lastVersion: bigint;
  finished: boolean;
}

/** Exponential backoff with jitter: half the delay is fixed, half random. */
function backoffDelay(policy: ReconnectPolicy, attempt: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/**
 * Relays one stream's new events. Returns why the stream broke (undefined when it
 * just ended); throws errors that a reconnect would not cure.
 */
async function* relay<E>(
  stream: ResumableStream<E>,
  state: WatchState,
  signal: AbortSignal | undefined,
): AsyncGenerator<E, JobwireError | undefined, undefined> {
  try {
    for await (const event of stream.open(state.lastVersion, signal)) {
      const version = stream.version(event);
      if (version <= state.lastVersion) {
        continue;
      }
      state.lastVersion = version;
      state.finished = stream.isTerminal(event);
      yield event;
      if (state.finished) {
        return undefined;
      }
    }
    return undefined;
  } catch (reason) {
    const error = toJobwireError(reason);
    if (signal?.aborted === true || transientCodes.has(error.code)) {
      return error;
    }
    throw error;
  }
}

async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    // Aborted: the caller sees `signal.aborted` and stops.
  }
}

/**
 * Yields a stream's events in version order, each once, until the terminal event
 * or until `options.signal` fires. A stream that breaks (server restart, connection
 * reset, end before the terminal event) is reopened with backoff after the last
 * version seen. Throws the last error after `policy.maxAttempts` reconnects in a
 * row without a new event, and at once for errors a reconnect would not cure
 * (e.g. NOT_FOUND).
 *
 * @internal
 */
export async function* resumableWatch<E>(
  stream: ResumableStream<E>,
  policy: ReconnectPolicy,
  options: WatchOptions = {},
): AsyncGenerator<E, void, undefined> {
  const { signal } = options;
  const aborted = (): boolean => signal?.aborted === true;
  const state: WatchState = { lastVersion: options.resumeAfter ?? 0n, finished: false };
  let attempt = 0;
  while (!aborted()) {
    const versionBefore = state.lastVersion;
    const error = yield* relay(stream, state, signal);
    if (state.finished || aborted()) {
      return;
    }
    attempt = state.lastVersion > versionBefore ? 1 : attempt + 1;
    if (attempt > policy.maxAttempts) {
      throw error ?? new UnavailableError("watch stream kept ending before the terminal event");
    }
    const delayMs = backoffDelay(policy, attempt);
    options.onReconnect?.({ attempt, delayMs, resumeAfter: state.lastVersion, error });
    await pause(delayMs, signal);
  }
}
