import { createHmac } from "node:crypto";
import { and, eq, inArray, isNull, lte, min, sql } from "drizzle-orm";
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
/** Deliveries claimed at once, sent at once, and recorded by one statement. */
const CLAIM_BATCH = 512;
const LANES = 64;
const RECORD_BATCH = 128;
/** Record statements that may run at once before lanes wait for one to finish. */
const RECORDS_IN_FLIGHT = 4;

interface Claimed {
  delivery: WebhookDeliveryRow;
  event: EventRow | undefined;
  endpoint: WebhookEndpointRow | undefined;
  /** The event as sent (`presentEvent`), serialised once for all its endpoints. */
  body: string | undefined;
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
  const bodyById = new Map(eventRows.map((e) => [e.id, JSON.stringify(presentEvent(e))]));
  const endpointById = new Map(endpointRows.map((e) => [e.id, e]));
  claimed.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  return claimed.map((delivery) => ({
    delivery,
    event: eventById.get(delivery.eventId),
    endpoint: endpointById.get(delivery.endpointId),
    body: bodyById.get(delivery.eventId),
  }));
};

/**
 * The Standard Webhooks headers of one delivery: `webhook-id` (the event id, the same on every
 * retry so receivers deduplicate), `webhook-timestamp` (unix seconds, real time: a receiver
 * rejects old ones) and `webhook-signature`, one `v1,<base64 HMAC-SHA256>` per active secret.
 * The signature is the specification's — base64 of HMAC-SHA256 over `id.timestamp.body`, keyed
 * with the secret's base64 after `whsec_` — computed by node:crypto (the `standardwebhooks`
 * package signs in JavaScript, several times slower; the tests verify with its verifier).
 */
export const signDelivery = (input: {
  eventId: string;
  body: string;
  secrets: string[];
  at: Date;
}): Record<string, string> => {
  const timestamp = String(Math.floor(input.at.getTime() / 1000));
  const signed = `${input.eventId}.${timestamp}.${input.body}`;
  return {
    "webhook-id": input.eventId,
    "webhook-timestamp": timestamp,
    "webhook-signature": input.secrets
      .map(
        (secret) => `v1,${createHmac("sha256", secretKey(secret)).update(signed).digest("base64")}`,
      )
      .join(" "),
  };
};

const SECRET_PREFIX = "whsec_";
/** The HMAC key of a `whsec_…` secret: its base64, decoded. */
const secretKey = (secret: string): Buffer =>
  Buffer.from(
    secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret,
    "base64",
  );

/** Attempts one claimed delivery (or explains why it cannot be made). */
const attempt = async (ctx: ServiceContext, claimed: Claimed): Promise<SendResult> => {
  const { event, endpoint } = claimed;
  if (!event) return refusal("the event was pruned");
  if (!endpoint) return refusal("the endpoint was deleted");
  if (endpoint.disabled) return refusal("the endpoint is disabled");
  const realClock = ctx.webhookClock ?? ctx.clock;
  const body = claimed.body ?? JSON.stringify(presentEvent(event));
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

/** What an attempt's record needs. */
interface Outcome {
  claimed: Claimed;
  result: SendResult;
}

/**
 * Records attempts under their claims, any number in one statement: each delivery succeeds,
 * waits for its next retry, or fails for good, and its attempt goes into the log. An attempt
 * whose claim was lost (its lease lapsed and another worker took it) records nothing. Then the
 * endpoints' runs of failures: a success ends one, a failure starts or extends it, and an
 * endpoint failing for 5 days is disabled. A crash before the record only repeats the attempt
 * once the lease lapses (at least once; `webhook-id` lets the receiver tell).
 */
const recordAttempts = async (ctx: ServiceContext, outcomes: readonly Outcome[]) => {
  if (outcomes.length === 0) return;
  const now = ctx.clock.now();
  const rows = outcomes.map(({ claimed: { delivery, event }, result }) => {
    const attempt = delivery.attemptCount + 1;
    const final = (result as { final?: boolean }).final === true;
    const delay = RETRY_DELAYS_MS[attempt - 1];
    const status = result.ok ? "succeeded" : final || delay === undefined ? "failed" : "pending";
    return {
      delivery_id: delivery.id,
      claim: delivery.claim,
      status,
      attempt,
      next_attempt_at:
        status === "pending" ? new Date(now.getTime() + (delay as number)).toISOString() : null,
      attempt_id: newId("wha"),
      endpoint_id: delivery.endpointId,
      event_id: delivery.eventId,
      event_type: event?.type ?? "unknown",
      status_code: result.statusCode,
      duration_ms: result.durationMs,
      error: result.error,
      response_excerpt: result.responseExcerpt,
      succeeded: result.ok,
    };
  });
  const recorded = await ctx.db.execute(sql`
    with v as (
      select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(
        delivery_id text, claim text, status text, attempt int, next_attempt_at timestamptz,
        attempt_id text, endpoint_id text, event_id text, event_type text, status_code int,
        duration_ms int, error text, response_excerpt text, succeeded boolean)
    ), updated as (
      update webhook_deliveries d
         set status = v.status, attempt_count = v.attempt, claim = null,
             next_attempt_at = v.next_attempt_at
        from v
       where d.id = v.delivery_id and d.claim = v.claim and d.status = 'pending'
      returning d.id
    )
    insert into webhook_attempts (id, delivery_id, endpoint_id, event_id, event_type, attempt,
      status_code, duration_ms, error, response_excerpt, succeeded, created_at)
    select v.attempt_id, v.delivery_id, v.endpoint_id, v.event_id, v.event_type, v.attempt,
      v.status_code, v.duration_ms, v.error, v.response_excerpt, v.succeeded,
      ${now.toISOString()}::timestamptz
    from v join updated u on u.id = v.delivery_id
    returning delivery_id`);
  const wrote = new Set(
    ((recorded as unknown as { rows?: { delivery_id: string }[] }).rows ?? []).map(
      (r) => r.delivery_id,
    ),
  );
  const recovered = new Set<string>();
  const failing = new Set<string>();
  for (const { claimed, result } of outcomes) {
    if (!wrote.has(claimed.delivery.id)) {
      ctx.logger.warn({ deliveryId: claimed.delivery.id }, "webhook attempt outlived its claim");
      continue;
    }
    const { endpoint } = claimed;
    if (!endpoint || (result as { final?: boolean }).final) continue;
    if (result.ok) {
      if (endpoint.failingSince) recovered.add(endpoint.id);
    } else failing.add(endpoint.id);
  }
  if (recovered.size > 0) {
    await ctx.db
      .update(webhookEndpoints)
      .set({ failingSince: null })
      .where(inArray(webhookEndpoints.id, [...recovered]));
  }
  for (const endpointId of failing) {
    await ctx.db
      .update(webhookEndpoints)
      .set({ failingSince: now })
      .where(and(eq(webhookEndpoints.id, endpointId), isNull(webhookEndpoints.failingSince)));
    await disableIfFailingTooLong(ctx, endpointId);
  }
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
 * whenever it runs low, so a slow endpoint holds one lane, not the pass; outcomes are recorded
 * `RECORD_BATCH` to a statement (and the rest when the pass ends). Returns the attempts made.
 */
export const deliverDueWebhooks = async ({ ctx }: { ctx: ServiceContext }): Promise<number> => {
  const queue: Claimed[] = [];
  let attempted = 0;
  // Outcomes are recorded a batch to a statement, a few statements at once (their deliveries
  // are disjoint, each under its own claim); lanes wait only when that many are in flight, so
  // sending never waits for the database while it keeps up.
  let outcomes: Outcome[] = [];
  const recording = new Set<Promise<void>>();
  let failed: unknown;
  const flush = () => {
    const batch = outcomes;
    outcomes = [];
    if (batch.length === 0) return;
    const done: Promise<void> = recordAttempts(ctx, batch)
      .catch((error) => {
        failed ??= error;
      })
      .finally(() => recording.delete(done));
    recording.add(done);
  };
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
      if (failed) return;
      const next = queue.shift();
      if (!next) {
        if (exhausted) return;
        await refill();
        continue;
      }
      // Claim the next batch while this one is being sent, so lanes never wait for a claim.
      if (queue.length < CLAIM_BATCH && !exhausted) refill().catch(() => {});
      const result = await attempt(ctx, next);
      outcomes.push({ claimed: next, result });
      attempted += 1;
      if (outcomes.length >= RECORD_BATCH) flush();
      while (recording.size >= RECORDS_IN_FLIGHT) await Promise.race(recording);
    }
  };
  await Promise.all(Array.from({ length: LANES }, lane));
  flush();
  await Promise.all(recording);
  if (failed) throw failed;
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
