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
  constructor(message: string, status?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
  }
}

/** A dump file or directory that cannot be read or does not hold Kubernetes objects. */
export class DumpError extends StsDoctorError {}

/** The named object does not exist. */
export class NotFoundError extends StsDoctorError {}
