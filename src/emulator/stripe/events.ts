import { and, asc, desc, eq, gt, inArray, lt, type SQL } from "drizzle-orm";
import { resourceMissing } from "./errors.ts";
import type { OperationContext } from "./operation-context.ts";
import { stripeEmuEvents } from "./schema.ts";
import {
  type CreatedBounds,
  createdConditions,
  type StripeList,
  type StripeObject,
  saveObject,
} from "./store.ts";
import { stripeId, unixSeconds } from "./stripe-ids.ts";

/** The event types the emulator produces; the service must tolerate any other Stripe sends. */
export type EmulatorEventType =
  | "customer.created"
  | "customer.updated"
  | "customer.deleted"
  | "payment_method.attached"
  | "payment_method.detached"
  | "setup_intent.created"
  | "setup_intent.succeeded"
  | "setup_intent.canceled"
  | "payment_intent.created"
  | "payment_intent.succeeded"
  | "payment_intent.payment_failed"
  | "payment_intent.canceled"
  | "charge.succeeded"
  | "charge.failed"
  | "charge.refunded"
  | "refund.created"
  | "refund.updated"
  | "billing_portal.session.created";

export interface StripeEventObject {
  id: string;
  object: "event";
  api_version: string;
  created: number;
  data: { object: StripeObject; previous_attributes?: Record<string, unknown> };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: EmulatorEventType;
}

export interface EventToEmit {
  type: EmulatorEventType;
  object: StripeObject;
  previousAttributes?: Record<string, unknown>;
}

/**
 * Records events in the request's transaction, in order and in one statement, so they exist
 * exactly when the change they describe committed; delivery picks them up afterwards
 * (webhook-delivery.ts).
 */
export const emitEvents = async (
  ctx: OperationContext,
  events: readonly EventToEmit[],
): Promise<StripeEventObject[]> => {
  if (events.length === 0) return [];
  const made = events.map(
    ({ type, object, previousAttributes }): StripeEventObject => ({
      id: stripeId("evt"),
      object: "event",
      api_version: ctx.apiVersion,
      created: unixSeconds(ctx.now),
      data: {
        object: structuredClone(object),
        ...(previousAttributes ? { previous_attributes: previousAttributes } : {}),
      },
      livemode: false,
      pending_webhooks: ctx.webhooksEnabled ? 1 : 0,
      request: { id: ctx.requestId, idempotency_key: ctx.idempotencyKey },
      type,
    }),
  );
  // Inserted in this order, so `seq` (and so delivery and lists) keeps it.
  await ctx.tx.insert(stripeEmuEvents).values(
    made.map((event) => ({
      id: event.id,
      type: event.type,
      // Delivery's own time (`event.created` is the emulator clock's): retries and the three
      // days after which an undeliverable event is abandoned are counted on the delivery clock.
      createdAt: ctx.queuedAt,
      data: event as unknown as Record<string, unknown>,
      nextAttemptAt: ctx.webhooksEnabled ? ctx.queuedAt : null,
    })),
  );
  return made;
};

export const emitEvent = async (
  ctx: OperationContext,
  type: EmulatorEventType,
  object: StripeObject,
  previousAttributes?: Record<string, unknown>,
): Promise<StripeEventObject> => {
  const [event] = await emitEvents(ctx, [{ type, object, previousAttributes }]);
  return event as StripeEventObject;
};

const isHash = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Stripe's `previous_attributes`: only what changed, with its old value. Hashes are compared key
 * by key and keep only their changed keys (`{"invoice_settings":{"default_payment_method":null}}`);
 * a key that did not exist before reads as null (`{"metadata":{"tier":null}}`); arrays, scalars and
 * a hash that appeared or vanished are given whole.
 */
export const previousAttributes = (
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): Record<string, unknown> => {
  const previous: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const old = before[key];
    const now = after[key];
    if (JSON.stringify(old) === JSON.stringify(now)) continue;
    previous[key] = isHash(old) && isHash(now) ? previousAttributes(old, now) : (old ?? null);
  }
  return previous;
};

/**
 * Saves a changed object and emits `<object>.updated` with what changed; saving an object that
 * did not change emits nothing, as Stripe sends no event for a no-op update.
 */
export const saveWithUpdatedEvent = async (
  ctx: OperationContext,
  before: StripeObject,
  after: StripeObject,
  type: EmulatorEventType,
): Promise<void> => {
  const previous = previousAttributes(before, after);
  if (Object.keys(previous).length === 0) return;
  await saveObject(ctx, after);
  await emitEvent(ctx, type, after, previous);
};

export const retrieveEvent = async (
  ctx: Pick<OperationContext, "tx">,
  id: string,
): Promise<StripeEventObject> => {
  const [row] = await ctx.tx
    .select({ data: stripeEmuEvents.data })
    .from(stripeEmuEvents)
    .where(eq(stripeEmuEvents.id, id));
  if (!row) throw resourceMissing("event", id, "id");
  return row.data as unknown as StripeEventObject;
};

/** `GET /v1/events`: newest first, paginated like every Stripe list. */
export const listEvents = async (
  ctx: Pick<OperationContext, "tx">,
  query: {
    type?: string;
    /** `types[]`: any of these (Stripe takes up to 20). */
    types?: string[];
    created?: CreatedBounds;
    limit: number;
    startingAfter?: string;
    endingBefore?: string;
  },
): Promise<StripeList<StripeEventObject>> => {
  const conditions: SQL[] = createdConditions(stripeEmuEvents.data, query.created);
  if (query.type !== undefined) conditions.push(eq(stripeEmuEvents.type, query.type));
  if (query.types !== undefined) conditions.push(inArray(stripeEmuEvents.type, query.types));
  const cursorId = query.startingAfter ?? query.endingBefore;
  const backwards = query.startingAfter === undefined && query.endingBefore !== undefined;
  if (cursorId !== undefined) {
    const [cursor] = await ctx.tx
      .select({ seq: stripeEmuEvents.seq })
      .from(stripeEmuEvents)
      .where(eq(stripeEmuEvents.id, cursorId));
    if (!cursor) {
      throw resourceMissing("event", cursorId, backwards ? "ending_before" : "starting_after");
    }
    conditions.push(
      backwards ? gt(stripeEmuEvents.seq, cursor.seq) : lt(stripeEmuEvents.seq, cursor.seq),
    );
  }
  const rows = await ctx.tx
    .select({ data: stripeEmuEvents.data })
    .from(stripeEmuEvents)
    .where(and(...conditions))
    .orderBy(backwards ? asc(stripeEmuEvents.seq) : desc(stripeEmuEvents.seq))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit).map((row) => row.data as unknown as StripeEventObject);
  if (backwards) page.reverse();
  return { object: "list", data: page, has_more: rows.length > query.limit, url: "/v1/events" };
};
