/**
 * Exit codes of the `l3m` command, so that scripts, schedulers and the extension can tell how a
 * command ended. Part of the protocol because the training code (a run's terminal shell) and the
 * commands both return them.
 */
export const exitCodes = {
  ok: 0,
  /** The command's subject has errors (an invalid config, an unreadable file). */
  invalid: 1,
  /** The command line itself is wrong. */
  usage: 2,
  /** A run failed (NaN loss, crash, full disk). */
  runFailed: 3,
  /** A run was cancelled (Ctrl-C or a cancel request); it can be resumed. */
  cancelled: 4,
  /** A bug in L3M Studio. */
  internal: 70,
} as const;
