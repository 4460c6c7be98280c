import type { Server } from "node:http";
import type { ServerType } from "@hono/node-server";
import type { Logger } from "pino";
import { armExitWatchdog } from "./exit-watchdog.ts";
import type { ProcessLogger } from "./logging.ts";

/** How long a shutdown may take before the process exits 1 anyway. */
export const SHUTDOWN_LIMIT_MS = 30_000;
/** How long requests in flight may run on after a stop signal before their connections are cut. */
export const DRAIN_GRACE_MS = 10_000;
/** How long the last log lines may take to be written before the process exits regardless. */
const LOG_CLOSE_MS = 1_000;

type Fetch = (request: Request, ...rest: never[]) => Response | Promise<Response>;

/**
 * Counts the requests being handled. A client that hangs up does not stop its request's handler,
 * so the shutdown waits for this count as well as for the connections: `idle` settles once no
 * handler runs.
 */
export const countRequestsInFlight = <F extends Fetch>(fetch: F) => {
  let inFlight = 0;
  let whenIdle: (() => void) | undefined;
  const counted = (async (request: Request, ...rest: never[]) => {
    inFlight += 1;
    try {
      return await fetch(request, ...rest);
    } finally {
      inFlight -= 1;
      if (inFlight === 0) whenIdle?.();
    }
  }) as F;
  const idle = () =>
    inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (whenIdle = resolve));
  return { fetch: counted, idle };
};

/**
 * Stops taking connections and lets the requests in flight finish (an acknowledged event is
 * stored before its answer is sent, so none may be cut off), closing keep-alive connections as
 * they fall idle; after the grace period the rest are cut.
 */
export const drainConnections = (server: Server, graceMs: number, logger: Logger) =>
  new Promise<void>((resolve) => {
    // Requests arriving from now on (on open keep-alive connections) are answered with
    // Connection: close, so clients go elsewhere for the next one; connections whose requests
    // were already running are closed by `closeIdleConnections` once they fall idle.
    server.on("request", (_req, res) => res.setHeader("connection", "close"));
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    const cut = setTimeout(() => {
      logger.warn({ graceMs }, "requests still running after the grace period: cut off");
      server.closeAllConnections();
    }, graceMs);
    server.close(() => {
      clearInterval(idle);
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });

/**
 * On SIGTERM or SIGINT: drains the HTTP server's connections, waits for handlers whose client hung
 * up, then runs `stop` (the worker, the webhook delivery, the database), writes the last log lines
 * and exits 0. Whatever hangs, the process goes: a supervisor waiting on it must not wait
 * forever. After `SHUTDOWN_LIMIT_MS` it exits 1; should the main thread itself be stuck, the
 * watchdog thread kills the process a little later.
 */
export const stopOnSignals = (opts: {
  server: ServerType;
  /** Settles once no request handler runs (`countRequestsInFlight`). */
  requestsDone: () => Promise<void>;
  /** Everything after the HTTP server: the worker, then the composed service. */
  stop: () => Promise<void>;
  log: ProcessLogger;
}) => {
  const { logger } = opts.log;
  /**
   * Writes the last log lines (for at most a second), then exits with `code`. The first call
   * decides the code: a shutdown that finishes while the guard is already exiting is still late.
   */
  let exiting: Promise<never> | undefined;
  const exit = (code: number) => {
    exiting ??= opts.log.close(LOG_CLOSE_MS).then(() => process.exit(code));
    return exiting;
  };

  let stopping = false;
  const shutDown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    // The timer is not unref'd: a shutdown stuck on a promise that never settles, with nothing
    // else left to run, still ends as the failure it is (exit 1), not as a silent exit 0.
    setTimeout(() => {
      logger.error({ limitMs: SHUTDOWN_LIMIT_MS }, "shutdown did not finish in time; exiting");
      void exit(1);
    }, SHUTDOWN_LIMIT_MS);
    armExitWatchdog(SHUTDOWN_LIMIT_MS + 2 * LOG_CLOSE_MS + 1_000);
    await drainConnections(opts.server as Server, DRAIN_GRACE_MS, logger);
    await opts.requestsDone();
    await opts.stop();
    logger.info("stopped");
    await exit(0);
  };
  process.on("SIGTERM", () => void shutDown("SIGTERM"));
  process.on("SIGINT", () => void shutDown("SIGINT"));
};
