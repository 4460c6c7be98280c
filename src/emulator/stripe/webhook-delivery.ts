import { and, asc, eq, isNotNull } from "drizzle-orm";
import type { Logger } from "pino";
import type { Clock } from "../../clock.ts";
import type { Db } from "../../db/client.ts";
import { stripeEmuEvents } from "./schema.ts";
import { unixSeconds } from "./stripe-ids.ts";
import { signatureHeader } from "./webhook-signature.ts";

export interface WebhookDeliveryOptions {
  db: Db;
  clock: Clock;
  secret: string;
  deliver?: (request: Request) => Promise<Response>;
  webhookUrl: string;
  logger?: Logger;
}

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 60 * 60 * 1000;
/** Stripe stops retrying an event three days after it was created. */
const GIVE_UP_AFTER_MS = 3 * 24 * 60 * 60 * 1000;

/** 1 s, 2 s, 4 s, ... doubling after each failed attempt, at most an hour apart. */
export const retryDelayMs = (attempts: number): number =>
  Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1), MAX_RETRY_MS);

/**
 * Delivers stored events to the webhook endpoint strictly in creation order, one at a time: an
 * event that fails holds back the ones after it until it is delivered (or abandoned), so the
 * receiver never sees a later state before an earlier one. State lives in the events table, so a
 * restart resumes where delivery stopped. Due times come from the injected clock; only the
 * background loop's sleep uses real timers.
 */
export const createWebhookDelivery = (opts: WebhookDeliveryOptions) => {
  // Runs are chained so concurrent callers (the loop and a test) never send an event twice.
  let chain: Promise<unknown> = Promise.resolve();
  let loop: Promise<void> | undefined;
  let stopping = false;
  let wake: (() => void) | undefined;
  let woken = false;

  const attempt = async (request: Request): Promise<string | null> => {
    if (!opts.deliver) return "no endpoint";
    try {
      const response = await opts.deliver(request);
      // Drain the body so a real connection can be reused; its content does not matter.
      await response.arrayBuffer().catch(() => undefined);
      return response.ok ? null : `endpoint answered ${response.status}`;
    } catch (error) {
      return `delivery failed: ${(error as Error).message}`;
    }
  };

  const deliverDue = async (): Promise<number> => {
    const deliver = opts.deliver;
    if (!deliver) return 0;
    let delivered = 0;
    for (;;) {
      const now = opts.clock.now();
      const [head] = await opts.db
        .select()
        .from(stripeEmuEvents)
        .where(isNotNull(stripeEmuEvents.nextAttemptAt))
        .orderBy(asc(stripeEmuEvents.seq))
        .limit(1);
      if (!head?.nextAttemptAt || head.nextAttemptAt > now) return delivered;
      const payload = JSON.stringify(head.data, null, 2);
      const request = new Request(opts.webhookUrl, {
        method: "POST",
        headers: {
          "content-type": "application/json; charset=utf-8",
          "stripe-signature": signatureHeader(payload, opts.secret, unixSeconds(now)),
          "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        },
        body: payload,
      });
      const failure = await attempt(request);
      const attempts = head.attempts + 1;
      const unchanged = and(
        eq(stripeEmuEvents.id, head.id),
        eq(stripeEmuEvents.attempts, head.attempts),
      );
      if (failure === null) {
        await opts.db
          .update(stripeEmuEvents)
          .set({
            attempts,
            deliveredAt: now,
            nextAttemptAt: null,
            lastError: null,
            data: { ...head.data, pending_webhooks: 0 },
          })
          .where(unchanged);
        delivered += 1;
        continue;
      }
      const abandoned = now.getTime() - head.createdAt.getTime() >= GIVE_UP_AFTER_MS;
      await opts.db
        .update(stripeEmuEvents)
        .set({
          attempts,
          lastError: failure,
          nextAttemptAt: abandoned ? null : new Date(now.getTime() + retryDelayMs(attempts)),
        })
        .where(unchanged);
      opts.logger?.warn(
        { eventId: head.id, type: head.type, attempts, abandoned, reason: failure },
        abandoned
          ? "stripe emulator: webhook abandoned"
          : "stripe emulator: webhook will be retried",
      );
      return delivered;
    }
  };

  const deliverDueEvents = (): Promise<number> => {
    const run = chain.then(deliverDue);
    chain = run.catch(() => undefined);
    return run;
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken || stopping) {
        woken = false;
        resolve();
        return;
      }
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        woken = false;
        resolve();
      }
      wake = done;
    });

  /** Asks the loop to look for due events now rather than after its sleep. */
  const kick = () => {
    woken = true;
    wake?.();
  };

  const start = (intervalMs = 1000) => {
    if (loop || !opts.deliver) return;
    stopping = false;
    loop = (async () => {
      while (!stopping) {
        try {
          await deliverDueEvents();
        } catch (error) {
          opts.logger?.error({ err: error }, "stripe emulator: webhook delivery loop failed");
        }
        await sleep(intervalMs);
      }
    })();
  };

  const stop = async () => {
    stopping = true;
    wake?.();
    await loop;
    loop = undefined;
    await chain;
  };

  return { deliverDueEvents, start, stop, kick };
};

export type WebhookDelivery = ReturnType<typeof createWebhookDelivery>;
