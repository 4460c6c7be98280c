import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import pino from "pino";
import { ManualClock, systemClock } from "./clock.ts";
import { composeService } from "./compose.ts";
import { loadConfigOrExit } from "./config.ts";
import { openDatabase } from "./db/client.ts";
import { migrate } from "./db/migrate.ts";
import { resolveEmulatorApiKey, resolveOperatorKey } from "./operator-key.ts";
import { startWorker } from "./worker/due-work.ts";
import { loadTestClock } from "./worker/test-clock.ts";

/** Start-up: config → database (migrated) → app → HTTP server. */
const main = async () => {
  const config = loadConfigOrExit();
  const logger = pino({ level: config.logLevel, base: { service: "nno-billing" } });
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

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    // Whatever hangs, the process goes: a supervisor waiting on it must not wait forever.
    setTimeout(() => {
      logger.error("shutdown did not finish in 30 s; exiting");
      process.exit(1);
    }, 30_000).unref();
    await drain(10_000);
    await handlersDone();
    await worker.stop();
    await emulator?.stopDelivery();
    await database.close();
    logger.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
};

await main();
