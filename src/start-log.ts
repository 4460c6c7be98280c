import type { Logger } from "pino";
import type { Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import type { Database } from "./db/client.ts";
import type { resolveOperatorKey } from "./operator-key.ts";
import { describeProcessor, processorPhrase } from "./processor/create-processor.ts";

/**
 * The start-up lines of `npm start`: where it listens, on which database, which payment
 * processor (the built-in emulator, a Stripe-compatible host or Stripe in test or live mode) and
 * which clock (real time, or the test clock and its time), then where the operator key is.
 */
export const logStart = (opts: {
  logger: Logger;
  port: number;
  config: Config;
  database: Database;
  /** Set when the test clock is on (BILLING_TEST_CLOCK=1). */
  testClock: Clock | undefined;
  operatorKey: ReturnType<typeof resolveOperatorKey>;
}) => {
  const { logger, port, config, database, operatorKey } = opts;
  const url = `http://localhost:${port}`;
  const processor = describeProcessor(config.stripe);
  const testClock = opts.testClock?.now().toISOString() ?? null;
  const databasePhrase =
    database.kind === "pglite" ? `embedded PGlite in ${config.dataDir}` : "PostgreSQL";
  const clockPhrase = testClock ? `test clock on, at ${testClock}` : "real time";
  logger.info(
    { url, port, database: database.kind, dataDir: config.dataDir, processor, testClock },
    `NNO billing listening on ${url} (database: ${databasePhrase}; processor: ${processorPhrase(processor)}; clock: ${clockPhrase})`,
  );
  if (operatorKey.source === "generated") {
    logger.info(
      { operatorKeyFile: operatorKey.file },
      `operator key (generated, stored in ${operatorKey.file}): ${operatorKey.key}`,
    );
  } else if (operatorKey.source === "stored") {
    // Logs travel to aggregators: the key is printed once, when generated; after that only the
    // file that holds it.
    logger.info(
      { operatorKeyFile: operatorKey.file },
      `operator key: in ${operatorKey.file} (printed only when it was generated)`,
    );
  } else {
    logger.info("operator key from BILLING_OPERATOR_KEY");
  }
};
