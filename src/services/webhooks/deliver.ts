import { createHmac, createSecretKey, type KeyObject } from "node:crypto";
import { and, eq, inArray, isNull, lte, min, sql } from "drizzle-orm";
import { webhookDeliveries, webhookEndpoints } from "../../db/schema/index.ts";
import { newId } from "../../ids.ts";
import type { ServiceContext } from "../context.ts";
import { recordEvent } from "../events/record-event.ts";
import { activeSecrets, presentEndpoint } from "./endpoints.ts";
import { type Destination, destinationOf, postTo, type SendResult } from "./send.ts";

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

/** An endpoint as a claim's attempts need it: where to send, and the keys to sign with. */
interface Target {
  id: string;
  disabled: boolean;
  /** In a run of failures (`failingSince` set). */
  failing: boolean;
  destination: Destination;
  /** The HMAC keys of the secrets active when the deliveries were claimed. */
  keys: KeyObject[];
}

/** A claimed delivery: what its attempt and its record need, nothing more. */
interface Claimed {
  id: string;
  claim: string;
  eventId: string;
  /** The event's type, for the log; null if the event was pruned. */
  eventType: string | null;
  /** The event as sent, built once per event by the claim; null if the event was pruned. */
  body: string | null;
  target: Target | undefined;
}

/**
 * What a pass parses or decodes once, whatever the number of its claims: the destination of each
 * URL and the HMAC key of each secret.
 */
interface PassCache {
  destinations: Map<string, Destination>;
  keys: Map<string, KeyObject>;
}

const newPassCache = (): PassCache => ({ destinations: new Map(), keys: new Map() });

/**
 * The event as `presentEvent` serialises it (`{id, type, createdAt, platformId, data,
 * previousAttributes?}`), built by PostgreSQL from the stored row: `data` and
 * `previousAttributes` are the stored JSON's text, so the payload is the same JSON (jsonb's
 * spacing), and no process parses and re-serialises it.
 */
const EVENT_BODY = sql.raw(`'{"id":' || to_json(e.id)::text
  || ',"type":' || to_json(e.type)::text
  || ',"createdAt":"' || to_char(e.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
  || '","platformId":' || coalesce(to_json(e.platform_id)::text, 'null')
  || ',"data":' || e.data::text
  || case when e.previous_attributes is null or jsonb_typeof(e.previous_attributes) = 'null'
          then '' else ',"previousAttributes":' || e.previous_attributes::text end
  || '}'`);

type ClaimRow = {
  kind: number;
  id: string;
  event_id: string | null;
  endpoint_id: string | null;
  type: string | null;
  body: string | null;
};

/**
 * Claims due deliveries, oldest first, in one statement: `FOR UPDATE SKIP LOCKED` picks rows no
 * other worker is claiming, the claim names the attempt, and the lease moved into
 * `next_attempt_at` keeps them from every other worker until it lapses (an attempt whose process
 * died is made again after it). The same statement returns each claimed event's body once
 * (however many endpoints receive it); the endpoints are read next.
 */
const claimDueDeliveries = async (
  ctx: ServiceContext,
  limit: number,
  cache: PassCache,
): Promise<Claimed[]> => {
  const now = ctx.clock.now();
  const lease = new Date(now.getTime() + attemptLeaseMs(ctx.config.webhooks.timeoutMs));
  const claim = newId("claim");
  const result = await ctx.db.execute(sql`
    with due as (
      select id from webhook_deliveries
       where status = 'pending' and next_attempt_at <= ${now.toISOString()}::timestamptz
       order by next_attempt_at
       limit ${limit}
       for update skip locked
    ), claimed as (
      update webhook_deliveries d
         set claim = ${claim}, next_attempt_at = ${lease.toISOString()}::timestamptz
        from due
       where d.id = due.id
      returning d.id, d.event_id, d.endpoint_id, d.created_at
    )
    select 0 as kind, c.id, c.event_id, c.endpoint_id, null as type, null::text as body,
           c.created_at
      from claimed c
    union all
    select 1, e.id, null, null, e.type, ${EVENT_BODY}, null
      from events e
     where e.id in (select event_id from claimed)
    order by kind, created_at`);
  const rows = (result as unknown as { rows: ClaimRow[] }).rows;
  if (rows.length === 0) return [];
  const events = new Map<string, ClaimRow>();
  const endpointIds = new Set<string>();
  for (const row of rows) {
    if (row.kind === 1) events.set(row.id, row);
    else endpointIds.add(row.endpoint_id as string);
  }
  const targets = await targetsOf(ctx, [...endpointIds], now, cache);
  const claimed: Claimed[] = [];
  for (const row of rows) {
    if (row.kind !== 0) continue;
    const eventId = row.event_id as string;
    const event = events.get(eventId);
    claimed.push({
      id: row.id,
      claim,
      eventId,
      eventType: event?.type ?? null,
      body: event?.body ?? null,
      target: targets.get(row.endpoint_id as string),
    });
  }
  return claimed;
};

/** The endpoints of a claim, with their destinations and active keys (from the pass's cache). */
const targetsOf = async (
  ctx: ServiceContext,
  ids: string[],
  now: Date,
  cache: PassCache,
): Promise<Map<string, Target>> => {
  const rows = await ctx.db
    .select({
      id: webhookEndpoints.id,
      url: webhookEndpoints.url,
      disabled: webhookEndpoints.disabled,
      secrets: webhookEndpoints.secrets,
      failingSince: webhookEndpoints.failingSince,
    })
    .from(webhookEndpoints)
    .where(inArray(webhookEndpoints.id, ids));
  const targets = new Map<string, Target>();
  for (const row of rows) {
    let destination = cache.destinations.get(row.url);
    if (!destination) {
      destination = destinationOf(row.url, ctx.config.webhooks.allowPrivate);
      cache.destinations.set(row.url, destination);
    }
    const keys = activeSecrets(row, now).map(({ secret }) => {
      let key = cache.keys.get(secret);
      if (!key) {
        key = createSecretKey(secretKey(secret));
        cache.keys.set(secret, key);
      }
      return key;
    });
    targets.set(row.id, {
      id: row.id,
      disabled: row.disabled,
      failing: row.failingSince !== null,
      destination,
      keys,
    });
  }
  return targets;
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
  const timestamp = unixSeconds(input.at);
  return {
    "webhook-id": input.eventId,
    "webhook-timestamp": timestamp,
    "webhook-signature": signatureOf(
      input.eventId,
      timestamp,
      input.body,
      input.secrets.map(secretKey),
    ),
  };
};

const unixSeconds = (at: Date) => String(Math.floor(at.getTime() / 1000));

/** The `webhook-signature` value: `v1,<base64 HMAC-SHA256 of id.timestamp.body>` per key. */
const signatureOf = (
  eventId: string,
  timestamp: string,
  body: string,
  keys: readonly (KeyObject | Buffer)[],
): string => {
  const signed = `${eventId}.${timestamp}.${body}`;
  return keys
    .map((key) => `v1,${createHmac("sha256", key).update(signed).digest("base64")}`)
    .join(" ");
};

const SECRET_PREFIX = "whsec_";
/** The HMAC key of a `whsec_…` secret: its base64, decoded. */
const secretKey = (secret: string): Buffer =>
  Buffer.from(
    secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret,
    "base64",
  );

/** An attempt that is not made, and not retried. */
interface Refusal extends SendResult {
  final: true;
}

/** Attempts one claimed delivery (or explains why it cannot be made). */
const attempt = (ctx: ServiceContext, claimed: Claimed): Promise<SendResult | Refusal> => {
  const { body, target } = claimed;
  if (body === null) return Promise.resolve(refusal("the event was pruned"));
  if (!target) return Promise.resolve(refusal("the endpoint was deleted"));
  if (target.disabled) return Promise.resolve(refusal("the endpoint is disabled"));
  const timestamp = unixSeconds((ctx.webhookClock ?? ctx.clock).now());
  const headers = [
    "webhook-id",
    claimed.eventId,
    "webhook-timestamp",
    timestamp,
    "webhook-signature",
    signatureOf(claimed.eventId, timestamp, body, target.keys),
  ];
  return postTo(target.destination, body, headers, ctx.config.webhooks.timeoutMs);
};

const refusal = (error: string): Refusal => ({
  statusCode: null,
  durationMs: 0,
  error,
  responseExcerpt: null,
  ok: false,
  final: true,
});

/**
 * What an attempt's record needs, built as soon as the attempt ends (so the claimed delivery and
 * its body are dropped at once): the record's row — delivery, claim, outcome (0 to retry, 1
 * success, 2 final failure), status code, duration, error, response excerpt, attempt id, event
 * type — and the endpoint, for its run of failures.
 */
interface Outcome {
  row: [
    deliveryId: string,
    claim: string,
    outcome: 0 | 1 | 2,
    statusCode: number | null,
    durationMs: number,
    error: string | null,
    responseExcerpt: string | null,
    attemptId: string,
    eventType: string | null,
  ];
  target: Target | undefined;
}

const outcomeOf = (claimed: Claimed, result: SendResult | Refusal): Outcome => ({
  row: [
    claimed.id,
    claimed.claim,
    result.ok ? 1 : (result as Partial<Refusal>).final === true ? 2 : 0,
    result.statusCode,
    result.durationMs,
    result.error,
    result.responseExcerpt,
    newId("wha"),
    claimed.eventType,
  ],
  target: claimed.target,
});

/** The retry delays as a PostgreSQL array literal (constants, so inlined in the statement). */
const RETRY_DELAYS_SQL = sql.raw(`'{${RETRY_DELAYS_MS.join(",")}}'::bigint[]`);

/**
 * Records attempts under their claims, any number in one statement: each delivery succeeds,
 * waits for its next retry, or fails for good (the attempt number and the next attempt's time are
 * worked out from the row), and its attempt goes into the log. An attempt whose claim was lost
 * (its lease lapsed and another worker took it) records nothing. Then the endpoints' runs of
 * failures: a success ends one, a failure starts or extends it, and an endpoint failing for 5
 * days is disabled. A crash before the record only repeats the attempt once the lease lapses (at
 * least once; `webhook-id` lets the receiver tell).
 */
const recordAttempts = async (ctx: ServiceContext, outcomes: readonly Outcome[]) => {
  if (outcomes.length === 0) return;
  const now = ctx.clock.now();
  const rows = outcomes.map((o) => o.row);
  const at = now.toISOString();
  const recorded = await ctx.db.execute(sql`
    with v as (
      select r->>0 as delivery_id, r->>1 as claim, (r->>2)::int as outcome,
             (r->>3)::int as status_code, (r->>4)::int as duration_ms, r->>5 as error,
             r->>6 as response_excerpt, r->>7 as attempt_id, r->>8 as event_type
        from jsonb_array_elements(${JSON.stringify(rows)}::jsonb) r
    ), updated as (
      update webhook_deliveries d
         set status = case when v.outcome = 1 then 'succeeded'
                           when v.outcome = 2 or d.attempt_count + 1 >= ${MAX_ATTEMPTS} then 'failed'
                           else 'pending' end,
             attempt_count = d.attempt_count + 1,
             claim = null,
             next_attempt_at = case when v.outcome = 0 and d.attempt_count + 1 < ${MAX_ATTEMPTS}
               then ${at}::timestamptz
                 + (${RETRY_DELAYS_SQL})[d.attempt_count + 1] * interval '1 millisecond' end
        from v
       where d.id = v.delivery_id and d.claim = v.claim and d.status = 'pending'
      returning d.id, d.event_id, d.endpoint_id, d.attempt_count
    )
    insert into webhook_attempts (id, delivery_id, endpoint_id, event_id, event_type, attempt,
      status_code, duration_ms, error, response_excerpt, succeeded, created_at)
    select v.attempt_id, u.id, u.endpoint_id, u.event_id, coalesce(v.event_type, 'unknown'),
      u.attempt_count, v.status_code, v.duration_ms, v.error, v.response_excerpt, v.outcome = 1,
      ${at}::timestamptz
    from updated u
    join v on v.delivery_id = u.id
    returning delivery_id`);
  const wrote = new Set(
    ((recorded as unknown as { rows?: { delivery_id: string }[] }).rows ?? []).map(
      (r) => r.delivery_id,
    ),
  );
  const recovered = new Set<string>();
  const failing = new Set<string>();
  for (const { row, target } of outcomes) {
    if (!wrote.has(row[0])) {
      ctx.logger.warn({ deliveryId: row[0] }, "webhook attempt outlived its claim");
      continue;
    }
    if (!target || row[2] === 2) continue;
    if (row[2] === 1) {
      if (target.failing) recovered.add(target.id);
    } else failing.add(target.id);
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
  const cache = newPassCache();
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
    refilling ??= claimDueDeliveries(ctx, CLAIM_BATCH, cache)
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
      outcomes.push(outcomeOf(next, result));
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
