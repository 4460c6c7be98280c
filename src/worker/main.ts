import { systemClock } from "../clock.ts";
import { composeContext, openMigratedDatabase } from "../compose.ts";
import { loadConfigOrExit } from "../config.ts";
import { createProcessLogger } from "../logging.ts";
import { runDueWork, startWorker } from "./due-work.ts";
import { startWebhookDelivery } from "./webhook-delivery.ts";

/**
 * `npm run worker`: the due-work loop alone, for running more workers than API servers against
 * one PostgreSQL. `--once` runs a single pass and exits (used by tests and cron-style setups).
 * It composes the service context the way `npm start` does, without the HTTP app: no operator
 * key, no rate limiter.
 */
const main = async () => {
  const config = loadConfigOrExit();
  const log = createProcessLogger({ level: config.logLevel, service: "nno-billing-worker" });
  const { logger } = log;
  const database = await openMigratedDatabase(config);
  const { ctx } = composeContext({ database, config, logger, clock: systemClock });

  if (process.argv.includes("--once")) {
    const done = await runDueWork({ ctx });
    logger.info(done, "worker pass done");
    await database.close();
    return;
  }
  const worker = startWorker(ctx);
  const webhooks = startWebhookDelivery(ctx);
  logger.info({ database: database.kind }, "worker running");
  const stop = async () => {
    await webhooks.stop();
    await worker.stop();
    await database.close();
    await log.close(1_000);
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
};

await main();
