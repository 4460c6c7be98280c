import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import pino from "pino";
import { createApp } from "./app.ts";
import { ManualClock, systemClock } from "./clock.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { openDatabase } from "./db/client.ts";
import { migrate } from "./db/migrate.ts";
import { resolveOperatorKey } from "./operator-key.ts";
import { createPaymentProcessor } from "./processor/create-processor.ts";
import { invoicesForPortal } from "./services/invoicing.ts";
import { startWorker } from "./worker/due-work.ts";
import { loadTestClock } from "./worker/test-clock.ts";

/** Start-up: config → database (migrated) → app → HTTP server. */
const main = async () => {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
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
  const payments = createPaymentProcessor({
    config,
    db: database.db,
    clock,
    logger,
    listInvoices: (customerId) => invoicesForPortal(database.db, customerId),
  });
  const { app, deps } = createApp({
    database,
    clock,
    testClock,
    config,
    logger,
    operatorKey: operatorKey.key,
    processor: payments.processor,
    emulator: payments.emulator,
  });
  payments.deliverWebhooksTo((request) => Promise.resolve(app.fetch(request)));
  payments.emulator?.startDelivery();
  const worker = startWorker(deps);

  const server = serve({ fetch: app.fetch, port: config.port }, (info: AddressInfo) => {
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
      logger.info(
        { operatorKeyFile: operatorKey.file },
        `operator key (from ${operatorKey.file}): ${operatorKey.key}`,
      );
    } else {
      logger.info("operator key from BILLING_OPERATOR_KEY");
    }
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    server.close();
    await worker.stop();
    await payments.emulator?.stopDelivery();
    await database.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
};

await main();
