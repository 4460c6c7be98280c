import { createDeps } from "../app.ts";
import { systemClock } from "../clock.ts";
import { loadConfigOrExit } from "../config.ts";
import { openDatabase } from "../db/client.ts";
import { migrate } from "../db/migrate.ts";
import { randomToken } from "../ids.ts";
import { createProcessLogger } from "../logging.ts";
import { createPaymentProcessor } from "../processor/create-processor.ts";
import { runDueWork, startWorker } from "./due-work.ts";

/**
 * `npm run worker`: the due-work loop alone, for running more workers than API servers against
 * one PostgreSQL. `--once` runs a single pass and exits (used by tests and cron-style setups).
 */
const main = async () => {
  const config = loadConfigOrExit();
  const log = createProcessLogger({ level: config.logLevel, service: "nno-billing-worker" });
  const { logger } = log;
  const database = await openDatabase(config);
  await migrate(database);
  const payments = createPaymentProcessor({ config, db: database.db, clock: systemClock, logger });
  const ctx = createDeps({
    database,
    clock: systemClock,
    config,
    logger,
    // The worker serves no HTTP; it needs no operator key (and must not race to create one).
    operatorKey: config.operatorKey ?? `unused_${randomToken(32)}`,
    processor: payments.processor,
  });

  if (process.argv.includes("--once")) {
    const done = await runDueWork(ctx);
    logger.info(done, "worker pass done");
    await database.close();
    return;
  }
  const worker = startWorker(ctx);
  logger.info({ database: database.kind }, "worker running");
  const stop = async () => {
    await worker.stop();
    await ctx.rateLimiter.close();
    await database.close();
    await log.close(1_000);
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
};

await main();
