import pino, { type Logger } from "pino";
import sonicBoom, { type SonicBoom as SonicBoomClass } from "sonic-boom";

// sonic-boom is CommonJS (`module.exports = SonicBoom`); its types describe an ES default export,
// which under NodeNext resolution types the default import as the module, not the class.
const SonicBoom = sonicBoom as unknown as typeof SonicBoomClass;

/** A process's logger and the one way to finish its output before the process exits. */
export interface ProcessLogger {
  logger: Logger;
  /**
   * Writes out what is still buffered and closes the destination, waiting at most `timeoutMs`.
   * Lines logged afterwards are dropped. Call it last, right before `process.exit`.
   */
  close(timeoutMs: number): Promise<void>;
}

/**
 * A stalled reader must not grow the buffer without bound: past this many bytes waiting, new
 * lines are dropped until the reader catches up.
 */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/**
 * JSON lines on stdout (pino), written asynchronously, for the entry points (`npm start`, the
 * worker, the standalone emulator). Tests build their own loggers.
 *
 * Why not pino's default destination: it registers a process `exit` hook that writes what is
 * still buffered with sonic-boom's `flushSync`, and sonic-boom 4 retries a synchronous write
 * that failed with anything but EAGAIN every 100 ms, forever. When stdout's reader was gone
 * (EPIPE) and a line sat behind a write still in flight at `process.exit` — the shutdown's own
 * "shutting down" and "stopped" — the process closed its port and then never exited, its main
 * thread looping in that hook, so no timer (the 30 s shutdown guard included) could fire. This
 * destination has no exit hook: `close` drains it asynchronously with a bound, and once a write
 * has failed (EPIPE or any other error) it takes no more lines instead of retrying them.
 */
export const createProcessLogger = (opts: {
  level: string;
  service: string;
  fd?: number;
}): ProcessLogger => {
  const destination = new SonicBoom({
    fd: opts.fd ?? 1,
    sync: false,
    maxLength: MAX_BUFFERED_BYTES,
  });
  let open = true;
  destination.on("error", () => {
    open = false;
  });
  const stream = {
    write: (line: string) => {
      if (open) destination.write(line);
    },
  };
  const logger = pino({ level: opts.level, base: { service: opts.service } }, stream);

  const close = (timeoutMs: number) =>
    new Promise<void>((resolve) => {
      if (!open) return resolve();
      open = false;
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      destination.once("close", done);
      destination.once("error", done);
      destination.end();
    });

  return { logger, close };
};
