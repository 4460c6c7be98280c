import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { systemClock } from "./clock.ts";
import { composeService, openMigratedDatabase, startClock } from "./compose.ts";
import { loadConfigOrExit } from "./config.ts";
import { createProcessLogger } from "./logging.ts";
import { resolveEmulatorApiKey, resolveOperatorKey } from "./operator-key.ts";
import { countRequestsInFlight, stopOnSignals } from "./shutdown.ts";
import { logStart } from "./start-log.ts";
import { startWorker } from "./worker/due-work.ts";
import { startWebhookDelivery } from "./worker/webhook-delivery.ts";

/** `npm start`: config → database (migrated) → composed service → HTTP server and worker. */
const main = async () => {
  const config = loadConfigOrExit();
  const log = createProcessLogger({ level: config.logLevel, service: "nno-billing" });
  const database = await openMigratedDatabase(config);
  const operatorKey = resolveOperatorKey({
    configured: config.operatorKey,
    dataDir: config.dataDir,
  });
  const { clock, testClock } = await startClock(config, database);
  const service = composeService({
    database,
    config,
    logger: log.logger,
    clock,
    testClock,
    // Webhooks are signed and verified in real time, also while a test clock moves billing time.
    webhookClock: systemClock,
    operatorKey: operatorKey.key,
    ...(config.stripe.secretKey || config.stripe.apiBase
      ? {}
      : { emulatorApiKey: resolveEmulatorApiKey(config.dataDir) }),
  });
  service.emulator?.startDelivery();
  const worker = startWorker(service.deps);
  const webhooks = startWebhookDelivery(service.deps);

  const requests = countRequestsInFlight(service.app.fetch);
  const server = serve({ fetch: requests.fetch, port: config.port }, (info: AddressInfo) =>
    logStart({ logger: log.logger, port: info.port, config, database, testClock, operatorKey }),
  );
  stopOnSignals({
    server,
    requestsDone: requests.idle,
    stop: async () => {
      await webhooks.stop();
      await worker.stop();
      await service.close();
    },
    log,
  });
};

await main();
