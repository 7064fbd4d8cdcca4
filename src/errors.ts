/**
 * Typed errors. Code below src/cli throws these; src/cli maps each to one sentence on stderr
 * and an exit code (README, "Exit codes"). Nothing below src/cli calls process.exit.
 */

/** Exit codes of every command. */
export const ExitCode = {
  /** Healthy: no finding at or above the failure threshold. */
  Ok: 0,
  /** Findings: the StatefulSet is not healthy (or, for `wait`, did not become healthy in time). */
  Findings: 1,
  /** Error: bad flags, unreadable kubeconfig or dump, API unreachable, forbidden or not found. */
  Error: 2,
  /** `recover` only: refused (the recovery does not fit the current state, or an object changed between plan and write). */
  Refused: 3,
} as const;

/** Base class: `message` is one plain sentence for stderr. */
export class StsDoctorError extends Error {
  readonly exitCode: number = ExitCode.Error;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad command-line use (unknown flag, conflicting options, invalid value). */
export class UsageError extends StsDoctorError {}

/** No kubeconfig, an unreadable or invalid one, or a context it does not have. */
export class KubeconfigError extends StsDoctorError {}

/** The API server could not be reached, refused the credentials, or answered with an error. */
export class ApiError extends StsDoctorError {
  /** HTTP status, when the server answered. */
  readonly status: number | undefined;
  /**
   * True when trying the same read again later may succeed: the server could not be reached
   * (refused, reset, timed out), or answered 429 or 5xx. Set by the client; loops that poll
   * (`wait`, the recovery's verify) keep going on a transient error until their deadline.
   */
  readonly transient: boolean;
  constructor(message: string, status?: number, options?: { cause?: unknown; transient?: boolean }) {
    super(message, options);
    this.status = status;
    this.transient = options?.transient ?? (status === undefined || status === 429 || status >= 500);
  }
}

/** True when `err` is an {@link ApiError} worth retrying later (see ApiError.transient). */
export function isTransient(err: unknown): boolean {
  return err instanceof ApiError && err.transient;
}

/** A dump file or directory that cannot be read or does not hold Kubernetes objects. */
export class DumpError extends StsDoctorError {}

/** The named object does not exist. */
export class NotFoundError extends StsDoctorError {}

/**
 * An answer beyond one of the client's bounds: larger than its response byte cap, or a list
 * whose `metadata.continue` goes on past its page cap (src/kube/client.ts). Not transient.
 */
export class ResponseLimitError extends ApiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, undefined, { ...options, transient: false });
  }
}

/**
 * An exec credential plugin (kubeconfig `users[].user.exec`) that could not be started, did not
 * finish within the request timeout, failed, or printed no valid ExecCredential.
 */
export class CredentialPluginError extends KubeconfigError {}
