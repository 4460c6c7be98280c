import type pg from "pg";
import { isConnectionFailure } from "../db/errors.ts";
import type { ServiceContext } from "../services/context.ts";
import { WEBHOOK_CHANNEL } from "../services/events/record-event.ts";
import { deliverDueWebhooks } from "../services/webhooks/deliver.ts";

/**
 * The webhook delivery loop of a server or worker process. On PostgreSQL it LISTENs on the
 * channel every event-writing transaction notifies at commit, so an event is sent within
 * moments of its commit; it also polls every `pollMs` (retries that come due, a missed
 * notification, the embedded database which has no other process to hear). Passes never overlap:
 * a wake-up during a pass runs one more pass after it.
 */
export const startWebhookDelivery = (ctx: ServiceContext, opts: { pollMs?: number } = {}) => {
  const pollMs = opts.pollMs ?? 1_000;
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let listener: pg.PoolClient | undefined;

  const pass = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = deliverDueWebhooks({ ctx })
      .then(() => undefined)
      .catch((error) => {
        if (isConnectionFailure(error)) {
          ctx.logger.warn({ err: error }, "webhook delivery: database unavailable");
        } else ctx.logger.error({ err: error }, "webhook delivery pass failed");
      })
      .finally(() => {
        running = undefined;
        if (again && !stopped) {
          again = false;
          pass();
        }
      });
  };

  const listen = async () => {
    const pool = ctx.database.pool;
    if (!pool || stopped) return;
    try {
      const client = await pool.connect();
      client.on("notification", () => pass());
      client.on("error", () => {
        // The connection dropped: listen again on a new one; polling covers the gap.
        if (listener === client) listener = undefined;
        client.release(true);
        if (!stopped) setTimeout(() => void listen(), pollMs);
      });
      await client.query(`LISTEN ${WEBHOOK_CHANNEL}`);
      listener = client;
      if (stopped) {
        listener = undefined;
        client.release(true);
      }
    } catch (error) {
      ctx.logger.warn({ err: error }, "webhook delivery: LISTEN failed, polling");
      if (!stopped) setTimeout(() => void listen(), pollMs * 5);
    }
  };

  void listen();
  const timer = setInterval(pass, pollMs);
  pass();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      const client = listener;
      listener = undefined;
      if (client) {
        await client.query(`UNLISTEN ${WEBHOOK_CHANNEL}`).catch(() => {});
        client.release();
      }
      await running;
    },
  };
};
