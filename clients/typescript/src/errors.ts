/**
 * Typed errors for failed jobwire calls.
 *
 * Every error a {@link JobwireClient} method throws is a {@link JobwireError}; the
 * gRPC status codes the service documents get a subclass of their own, so callers
 * can branch with `instanceof` instead of comparing codes. The original
 * `ConnectError` stays available as `cause`.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";

/** Base class of every error a jobwire client call throws. */
export class JobwireError extends Error {
  override name = "JobwireError";

  /**
   * @param code - The gRPC status code of the failure.
   * @param message - Human-readable explanation, as the server sent it.
   * @param options - `cause`: the underlying error, usually a `ConnectError`.
   */
  constructor(
    readonly code: Code,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** NOT_FOUND: no such job, batch or artifact for this tenant. */
export class NotFoundError extends JobwireError {
  override name = "NotFoundError";
  constructor(message: string, options?: ErrorOptions) {
    super(Code.NotFound, message, options);
  }
}

/** INVALID_ARGUMENT: a malformed request; the message names the offending field. */
export class InvalidArgumentError extends JobwireError {
  override name = "InvalidArgumentError";
  constructor(message: string, options?: ErrorOptions) {
    super(Code.InvalidArgument, message, options);
  }
}

/** ALREADY_EXISTS: the request conflicts with something stored. */
export class AlreadyExistsError extends JobwireError {
  override name = "AlreadyExistsError";
  constructor(message: string, options?: ErrorOptions) {
    super(Code.AlreadyExists, message, options);
  }
}

/** FAILED_PRECONDITION: e.g. cancelling a job that is already terminal. */
export class FailedPreconditionError extends JobwireError {
  override name = "FailedPreconditionError";
  constructor(message: string, options?: ErrorOptions) {
    super(Code.FailedPrecondition, message, options);
  }
}

/** UNAUTHENTICATED: authentication is on and the call carried no valid token. */
export class UnauthenticatedError extends JobwireError {
  override name = "UnauthenticatedError";
  constructor(message: string, options?: ErrorOptions) {
    super(Code.Unauthenticated, message, options);
  }
}

/** PERMISSION_DENIED: the caller may not perform this call. */
export class PermissionDeniedError extends JobwireError {
  override name = "PermissionDeniedError";
  constructor(message: string, options?: ErrorOptions) {
    super(Code.PermissionDenied, message, options);
  }
}

/** RESOURCE_EXHAUSTED: the request is larger than the server accepts. */
export class ResourceExhaustedError extends JobwireError {
  override name = "ResourceExhaustedError";
  constructor(message: string, options?: ErrorOptions) {
    super(Code.ResourceExhausted, message, options);
  }
}

/** UNAVAILABLE: the server or its database cannot be reached; safe to retry. */
export class UnavailableError extends JobwireError {
  override name = "UnavailableError";
  constructor(message: string, options?: ErrorOptions) {
    super(Code.Unavailable, message, options);
  }
}

/** DEADLINE_EXCEEDED: the call's timeout ran out before the server answered. */
export class DeadlineExceededError extends JobwireError {
  override name = "DeadlineExceededError";
  constructor(message: string, options?: ErrorOptions) {
    super(Code.DeadlineExceeded, message, options);
  }
}

/** CANCELED: the call was cancelled, usually through its AbortSignal. */
export class CancelledError extends JobwireError {
  override name = "CancelledError";
  constructor(message: string, options?: ErrorOptions) {
    super(Code.Canceled, message, options);
  }
}

type ErrorClass = new (message: string, options?: ErrorOptions) => JobwireError;

const errorClasses: ReadonlyMap<Code, ErrorClass> = new Map<Code, ErrorClass>([
  [Code.NotFound, NotFoundError],
  [Code.InvalidArgument, InvalidArgumentError],
  [Code.AlreadyExists, AlreadyExistsError],
  [Code.FailedPrecondition, FailedPreconditionError],
  [Code.Unauthenticated, UnauthenticatedError],
  [Code.PermissionDenied, PermissionDeniedError],
  [Code.ResourceExhausted, ResourceExhaustedError],
  [Code.Unavailable, UnavailableError],
  [Code.DeadlineExceeded, DeadlineExceededError],
  [Code.Canceled, CancelledError],
]);

/**
 * Turns anything a Connect call threw into a {@link JobwireError}: the subclass for
 * its status code where there is one, the base class otherwise.
 */
export function toJobwireError(reason: unknown): JobwireError {
  if (reason instanceof JobwireError) {
    return reason;
  }
  const error = ConnectError.from(reason);
  const ErrorClass = errorClasses.get(error.code);
  const options = { cause: error };
  return ErrorClass === undefined
    ? new JobwireError(error.code, error.message, options)
    : new ErrorClass(error.message, options);
}

/**
 * Runs one call and rethrows its failure as a {@link JobwireError}.
 *
 * @internal
 */
export async function mapErrors<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (reason) {
    throw toJobwireError(reason);
  }
}
