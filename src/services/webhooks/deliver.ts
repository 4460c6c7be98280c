import { and, eq, inArray, isNull, lte, min, sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import {
  type EventRow,
  events,
  type WebhookDeliveryRow,
  type WebhookEndpointRow,
  webhookDeliveries,
  webhookEndpoints,
} from "../../db/schema/index.ts";
import { newId } from "../../ids.ts";
import type { ServiceContext } from "../context.ts";
import { presentEvent } from "../events/queries.ts";
import { recordEvent } from "../events/record-event.ts";
import { activeSecrets, presentEndpoint } from "./endpoints.ts";
import { type SendResult, sendWebhook } from "./send.ts";

/**
 * When the next attempt follows a failed one, as Svix schedules them: the first attempt at once,
 * then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after each failure (about 28 h in all); a
 * delivery whose eighth attempt fails is marked failed.
 */
export const RETRY_DELAYS_MS = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
] as const;
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
/** An endpoint that failed every delivery for this long is disabled. */
export const DISABLE_AFTER_MS = 5 * 86_400_000;
/**
 * How long a claimed attempt is reserved for its worker: twice the attempt's deadline plus a
 * margin to record it. An attempt whose process died is made again once this lapses.
 */
export const attemptLeaseMs = (timeoutMs: number) => 2 * timeoutMs + 5_000;
/** Deliveries claimed at once, and sent at once. */
const CLAIM_BATCH = 64;
const LANES = 32;

interface Claimed {
  delivery: WebhookDeliveryRow;
  event: EventRow | undefined;
  endpoint: WebhookEndpointRow | undefined;
}

/**
 * Claims due deliveries, oldest first, in one statement: `FOR UPDATE SKIP LOCKED` picks rows no
 * other worker is claiming, the claim names the attempt, and the lease moved into
 * `next_attempt_at` keeps them from every other worker until it lapses (an attempt whose process
 * died is made again after it).
 */
const claimDueDeliveries = async (ctx: ServiceContext, limit: number): Promise<Claimed[]> => {
  const now = ctx.clock.now();
  const lease = new Date(now.getTime() + attemptLeaseMs(ctx.config.webhooks.timeoutMs));
  const due = ctx.db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.status, "pending"), lte(webhookDeliveries.nextAttemptAt, now)))
    .orderBy(webhookDeliveries.nextAttemptAt)
    .limit(limit)
    .for("update", { skipLocked: true });
  const claimed = await ctx.db
    .update(webhookDeliveries)
    .set({ claim: newId("claim"), nextAttemptAt: lease })
    .where(inArray(webhookDeliveries.id, due))
    .returning();
  if (claimed.length === 0) return [];
  const eventIds = [...new Set(claimed.map((d) => d.eventId))];
  const endpointIds = [...new Set(claimed.map((d) => d.endpointId))];
  const [eventRows, endpointRows] = await Promise.all([
    ctx.db.select().from(events).where(inArray(events.id, eventIds)),
    ctx.db.select().from(webhookEndpoints).where(inArray(webhookEndpoints.id, endpointIds)),
  ]);
  const eventById = new Map(eventRows.map((e) => [e.id, e]));
  const endpointById = new Map(endpointRows.map((e) => [e.id, e]));
  claimed.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  return claimed.map((delivery) => ({
    delivery,
    event: eventById.get(delivery.eventId),
    endpoint: endpointById.get(delivery.endpointId),
  }));
};

/**
 * The Standard Webhooks headers of one delivery: `webhook-id` (the event id, the same on every
 * retry so receivers deduplicate), `webhook-timestamp` (unix seconds, real time: a receiver
 * rejects old ones) and `webhook-signature`, one `v1,<base64 HMAC-SHA256>` per active secret.
 */
export const signDelivery = (input: {
  eventId: string;
  body: string;
  secrets: string[];
  at: Date;
}): Record<string, string> => ({
  "webhook-id": input.eventId,
  "webhook-timestamp": String(Math.floor(input.at.getTime() / 1000)),
  "webhook-signature": input.secrets
    .map((secret) => new Webhook(secret).sign(input.eventId, input.at, input.body))
    .join(" "),
});

/** Attempts one claimed delivery (or explains why it cannot be made). */
const attempt = async (ctx: ServiceContext, claimed: Claimed): Promise<SendResult> => {
  const { event, endpoint } = claimed;
  if (!event) return refusal("the event was pruned");
  if (!endpoint) return refusal("the endpoint was deleted");
  if (endpoint.disabled) return refusal("the endpoint is disabled");
  const realClock = ctx.webhookClock ?? ctx.clock;
  const body = JSON.stringify(presentEvent(event));
  const headers = signDelivery({
    eventId: event.id,
    body,
    secrets: activeSecrets(endpoint, ctx.clock.now()).map((s) => s.secret),
    at: realClock.now(),
  });
  return sendWebhook({
    url: endpoint.url,
    body,
    headers,
    timeoutMs: ctx.config.webhooks.timeoutMs,
    allowPrivate: ctx.config.webhooks.allowPrivate,
    now: () => performance.now(),
  });
};

const refusal = (error: string): SendResult & { final: true } => ({
  statusCode: null,
  durationMs: 0,
  error,
  responseExcerpt: null,
  ok: false,
  final: true,
});

/**
 * Records an attempt under its claim, in one statement: the delivery succeeds, waits for its
 * next retry, or fails for good; the attempt goes into the log. An attempt whose claim was lost
 * (its lease lapsed and another worker took it) records nothing. After a failure the endpoint's
 * run of failures is extended, and an endpoint failing for 5 days is disabled.
 */
const recordAttempt = async (ctx: ServiceContext, claimed: Claimed, result: SendResult) => {
  const now = ctx.clock.now();
  const { delivery } = claimed;
  const attemptNo = delivery.attemptCount + 1;
  const final = (result as { final?: boolean }).final === true;
  const delay = RETRY_DELAYS_MS[attemptNo - 1];
  const status = result.ok ? "succeeded" : final || delay === undefined ? "failed" : "pending";
  const nextAttemptAt =
    status === "pending" ? new Date(now.getTime() + (delay as number)).toISOString() : null;
  const recorded = await ctx.db.execute(sql`
    with updated as (
      update webhook_deliveries
         set status = ${status}, attempt_count = ${attemptNo}, claim = null,
             next_attempt_at = ${nextAttemptAt}::timestamptz
       where id = ${delivery.id} and claim = ${delivery.claim} and status = 'pending'
      returning id
    )
    insert into webhook_attempts (id, delivery_id, endpoint_id, event_id, event_type, attempt,
      status_code, duration_ms, error, response_excerpt, succeeded, created_at)
    select ${newId("wha")}, u.id, ${delivery.endpointId}, ${delivery.eventId},
      ${claimed.event?.type ?? "unknown"}, ${attemptNo}, ${result.statusCode}::int,
      ${result.durationMs}::int, ${result.error}, ${result.responseExcerpt}, ${result.ok},
      ${now.toISOString()}::timestamptz
    from updated u
    returning id`);
  const wrote = ((recorded as unknown as { rows?: unknown[] }).rows?.length ?? 0) > 0;
  if (!wrote) {
    ctx.logger.warn({ deliveryId: delivery.id }, "webhook attempt outlived its claim");
    return;
  }
  const { endpoint } = claimed;
  if (!endpoint || final) return;
  if (result.ok) {
    if (endpoint.failingSince) {
      await ctx.db
        .update(webhookEndpoints)
        .set({ failingSince: null })
        .where(eq(webhookEndpoints.id, endpoint.id));
    }
    return;
  }
  await ctx.db
    .update(webhookEndpoints)
    .set({ failingSince: now })
    .where(and(eq(webhookEndpoints.id, endpoint.id), isNull(webhookEndpoints.failingSince)));
  await disableIfFailingTooLong(ctx, endpoint.id);
};

/**
 * Disables an endpoint whose failures have lasted `DISABLE_AFTER_MS` and records the operator
 * event `webhook_endpoint.disabled` in the same transaction.
 */
const disableIfFailingTooLong = async (ctx: ServiceContext, endpointId: string) => {
  const now = ctx.clock.now();
  await ctx.db.transaction(async (tx) => {
    const [disabled] = await tx
      .update(webhookEndpoints)
      .set({ disabled: true, updatedAt: now })
      .where(
        and(
          eq(webhookEndpoints.id, endpointId),
          eq(webhookEndpoints.disabled, false),
          lte(webhookEndpoints.failingSince, new Date(now.getTime() - DISABLE_AFTER_MS)),
        ),
      )
      .returning();
    if (!disabled) return;
    ctx.logger.warn({ endpointId }, "webhook endpoint disabled after 5 days of failures");
    await recordEvent({
      tx,
      input: {
        now,
        type: "webhook_endpoint.disabled",
        platformId: null,
        object: presentEndpoint(disabled),
      },
    });
  });
};

/**
 * Delivers every due attempt: lanes take claimed deliveries from a queue that one claim refills
 * whenever it runs low, so a slow endpoint holds one lane, not the pass. Returns the attempts made.
 */
export const deliverDueWebhooks = async ({ ctx }: { ctx: ServiceContext }): Promise<number> => {
  const queue: Claimed[] = [];
  let attempted = 0;
  let exhausted = false;
  let refilling: Promise<void> | undefined;
  const refill = () => {
    refilling ??= claimDueDeliveries(ctx, CLAIM_BATCH)
      .then((rows) => {
        queue.push(...rows);
        if (rows.length === 0) exhausted = true;
      })
      .finally(() => {
        refilling = undefined;
      });
    return refilling;
  };
  const lane = async () => {
    for (;;) {
      const next = queue.shift();
      if (!next) {
        if (exhausted) return;
        await refill();
        continue;
      }
      if (queue.length < LANES && !exhausted) refill().catch(() => {});
      const result = await attempt(ctx, next);
      await recordAttempt(ctx, next, result);
      attempted += 1;
    }
  };
  await Promise.all(Array.from({ length: LANES }, lane));
  return attempted;
};

/** The earliest pending attempt (for the test clock's stepping). */
export const nextDeliveryAt = async (ctx: ServiceContext): Promise<Date | undefined> => {
  const [row] = await ctx.db
    .select({ at: min(webhookDeliveries.nextAttemptAt) })
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.status, "pending"));
  return row?.at ? new Date(row.at) : undefined;
};
