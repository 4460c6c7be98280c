import { sql } from "drizzle-orm";
import type { Tx } from "../../db/client.ts";
import { newId } from "../../ids.ts";
import type { EventObjects, EventType } from "./catalog.ts";

/** The channel a committed event's deliveries are announced on (PostgreSQL LISTEN/NOTIFY). */
export const WEBHOOK_CHANNEL = "billing_webhooks";

export type NewEvent = {
  [T in EventType]: {
    type: T;
    /** The platform the object belongs to; null for an operator event. */
    platformId: string | null;
    /** The object exactly as the API returns it (its route's presentation function). */
    object: EventObjects[T];
    previousAttributes?: Record<string, unknown> | undefined;
    /** An event raised once per key: a second one with the same key is not recorded. */
    dedupeKey?: string | undefined;
  };
}[EventType];

/**
 * Records events inside the caller's transaction (the outbox): one statement inserts the events
 * and a pending delivery for every enabled endpoint that wants each (the platform's own and the
 * operator's), and notifies the delivery worker, whose LISTEN hears it only when the caller
 * commits. Nothing is published outside the transaction; a rollback takes the events with it.
 * Batch paths pass all their events at once. Returns the ids recorded (an event whose
 * `dedupeKey` was raised before is skipped).
 */
export const recordEvents = async ({
  tx,
  input: { now, events },
}: {
  tx: Tx;
  input: { now: Date; events: readonly NewEvent[] };
}): Promise<string[]> => {
  if (events.length === 0) return [];
  const rows = events.map((e) => ({
    id: newId("evt"),
    type: e.type,
    platform_id: e.platformId,
    data: { object: e.object },
    previous_attributes: e.previousAttributes ?? null,
    dedupe_key: e.dedupeKey ?? null,
  }));
  const result = await tx.execute<{ id: string }>(sql`
    with recorded as (
      insert into events (id, type, platform_id, data, previous_attributes, dedupe_key, created_at)
      select v.id, v.type, v.platform_id, v.data, v.previous_attributes, v.dedupe_key, ${now.toISOString()}::timestamptz
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as v(id text, type text, platform_id text, data jsonb, previous_attributes jsonb, dedupe_key text)
      on conflict do nothing
      returning id, type, platform_id
    ), fanned as (
      insert into webhook_deliveries (id, event_id, endpoint_id, status, attempt_count, next_attempt_at, created_at)
      select 'whd_' || replace(gen_random_uuid()::text, '-', ''), r.id, e.id, 'pending', 0, ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz
      from recorded r
      join webhook_endpoints e
        on not e.disabled
       and (e.platform_id is null or e.platform_id = r.platform_id)
       and r.type <> 'ping'
       and (e.enabled_events @> '["*"]'::jsonb or e.enabled_events @> jsonb_build_array(r.type))
      returning 1
    )
    select r.id, (select count(*) from fanned)::int as deliveries,
      case when exists (select 1 from fanned) then pg_notify(${WEBHOOK_CHANNEL}, '')::text end as notified
    from recorded r`);
  return (result as unknown as { rows?: { id: string }[] }).rows?.map((r) => r.id) ?? [];
};

/** `recordEvents` for one event. */
export const recordEvent = async ({
  tx,
  input,
}: {
  tx: Tx;
  input: NewEvent & { now: Date };
}): Promise<string | undefined> => {
  const { now, ...event } = input;
  return (await recordEvents({ tx, input: { now, events: [event as NewEvent] } }))[0];
};
