// Why the server did not start, when the operator can fix it (as opposed to a crash).

/**
 * The server could not start for a reason the operator can fix: not a crash. `exitCode` 1 for what
 * may pass (a port in use), 2 for what no restart mends (SQL reporting on without its module), so a
 * service manager that stops restarting on 2 (the systemd unit) does not loop.
 */
export class StartError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = 'StartError';
  }
}
