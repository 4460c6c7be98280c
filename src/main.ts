import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { ManualClock, systemClock } from "./clock.ts";
import { composeService } from "./compose.ts";
import { loadConfigOrExit } from "./config.ts";
import { openDatabase } from "./db/client.ts";
import { migrate } from "./db/migrate.ts";
import { armExitWatchdog } from "./exit-watchdog.ts";
import { createProcessLogger } from "./logging.ts";
import { resolveEmulatorApiKey, resolveOperatorKey } from "./operator-key.ts";
import { startWorker } from "./worker/due-work.ts";
import { loadTestClock } from "./worker/test-clock.ts";

/** How long a shutdown may take before the process exits 1 anyway. */
const SHUTDOWN_LIMIT_MS = 30_000;
/** How long the last log lines may take to be written before the process exits regardless. */
const LOG_CLOSE_MS = 1_000;

/** Start-up: config → database (migrated) → app → HTTP server. */
const main = async () => {
  const config = loadConfigOrExit();
  const log = createProcessLogger({ level: config.logLevel, service: "nno-billing" });
  const { logger } = log;
  const database = await openDatabase(config);
  await migrate(database);
  const operatorKey = resolveOperatorKey({
    configured: config.operatorKey,
    dataDir: config.dataDir,
  });
  // With BILLING_TEST_CLOCK=1 time stands still until the operator moves it.
  const testClock = config.testClock ? new ManualClock(systemClock.now()) : undefined;
  if (testClock) await loadTestClock(database.db, testClock);
  const clock = testClock ?? systemClock;
  const { app, deps, emulator } = composeService({
    database,
    config,
    logger,
    clock,
    testClock,
    // Webhooks are signed and verified in real time, also while a test clock moves billing time.
    webhookClock: systemClock,
    operatorKey: operatorKey.key,
    ...(config.stripe.secretKey || config.stripe.apiBase
      ? {}
      : { emulatorApiKey: resolveEmulatorApiKey(config.dataDir) }),
  });
  emulator?.startDelivery();
  const worker = startWorker(deps);

  // Requests being handled. A client that hangs up does not stop its request's handler, so the
  // shutdown waits for this count as well as for the connections.
  let inFlight = 0;
  let whenIdle: (() => void) | undefined;
  const fetch: typeof app.fetch = async (request, ...rest) => {
    inFlight += 1;
    try {
      return await app.fetch(request, ...rest);
    } finally {
      inFlight -= 1;
      if (inFlight === 0) whenIdle?.();
    }
  };
  const handlersDone = () =>
    inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (whenIdle = resolve));

  const server = serve({ fetch, port: config.port }, (info: AddressInfo) => {
    const url = `http://localhost:${info.port}`;
    logger.info(
      { url, port: info.port, database: database.kind, dataDir: config.dataDir },
      `NNO billing listening on ${url} (database: ${database.kind === "pglite" ? `embedded PGlite in ${config.dataDir}` : "PostgreSQL"})`,
    );
    if (operatorKey.source === "generated") {
      logger.info(
        { operatorKeyFile: operatorKey.file },
        `operator key (generated, stored in ${operatorKey.file}): ${operatorKey.key}`,
      );
    } else if (operatorKey.source === "stored") {
      // Logs travel to aggregators: the key is printed once, when generated; after that only
      // the file that holds it.
      logger.info(
        { operatorKeyFile: operatorKey.file },
        `operator key: in ${operatorKey.file} (printed only when it was generated)`,
      );
    } else {
      logger.info("operator key from BILLING_OPERATOR_KEY");
    }
  });

  /**
   * Stops taking connections and lets the requests in flight finish (an acknowledged event is
   * stored before its answer is sent, so none may be cut off), closing keep-alive connections as
   * they fall idle; after the grace period the rest are cut. Then it waits for handlers whose
   * client hung up. Only then do the worker, the webhook delivery and the database stop.
   */
  const drain = (graceMs: number) =>
    new Promise<void>((resolve) => {
      const http = server as Server;
      // Requests arriving from now on (on open keep-alive connections) are answered with
      // Connection: close, so clients go elsewhere for the next one; connections whose requests
      // were already running are closed by `closeIdleConnections` once they fall idle.
      http.on("request", (_req, res) => res.setHeader("connection", "close"));
      const idle = setInterval(() => http.closeIdleConnections(), 50);
      const cut = setTimeout(() => {
        logger.warn({ graceMs }, "requests still running after the grace period: cut off");
        http.closeAllConnections();
      }, graceMs);
      http.close(() => {
        clearInterval(idle);
        clearTimeout(cut);
        resolve();
      });
      http.closeIdleConnections();
    });

  /**
   * Writes the last log lines (for at most a second), then exits with `code`. The first call
   * decides the code: a shutdown that finishes while the guard is already exiting is still late.
   */
  let exiting: Promise<never> | undefined;
  const exit = (code: number) => {
    exiting ??= log.close(LOG_CLOSE_MS).then(() => process.exit(code));
    return exiting;
  };

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    // Whatever hangs, the process goes: a supervisor waiting on it must not wait forever. The
    // timer is not unref'd: a shutdown stuck on a promise that never settles, with nothing else
    // left to run, still ends as the failure it is (exit 1), not as a silent exit 0. Should the
    // main thread itself be stuck, the watchdog thread kills the process a little later.
    setTimeout(() => {
      logger.error({ limitMs: SHUTDOWN_LIMIT_MS }, "shutdown did not finish in time; exiting");
      void exit(1);
    }, SHUTDOWN_LIMIT_MS);
    armExitWatchdog(SHUTDOWN_LIMIT_MS + 2 * LOG_CLOSE_MS + 1_000);
    await drain(10_000);
    await handlersDone();
    await worker.stop();
    await emulator?.stopDelivery();
    await deps.rateLimiter.close();
    await database.close();
    logger.info("stopped");
    await exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
};

await main();
