import { sql } from "drizzle-orm";
import { boolean, index, integer, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns.ts";

/** A signing secret of an endpoint; a rotated-out one keeps signing until `expiresAt`. */
export interface WebhookSecret {
  secret: string;
  expiresAt: string | null;
}

/**
 * Where events are delivered. A platform's endpoint (`platformId`) receives that platform's
 * events; an operator endpoint (`platformId` null) receives every event. `failingSince`: the
 * first failed delivery of the current run of failures (null after any success).
 */
export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: text().primaryKey(),
    platformId: text(),
    url: text().notNull(),
    enabledEvents: jsonb().$type<string[]>().notNull(),
    description: text(),
    disabled: boolean().notNull().default(false),
    secrets: jsonb().$type<WebhookSecret[]>().notNull(),
    failingSince: timestamptz("failing_since"),
    createdAt: timestamptz("created_at").notNull(),
    updatedAt: timestamptz("updated_at").notNull(),
  },
  (t) => [index("webhook_endpoints_platform_idx").on(t.platformId, t.createdAt, t.id)],
);

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;

export const webhookDeliveryStatuses = ["pending", "succeeded", "failed"] as const;
export type WebhookDeliveryStatus = (typeof webhookDeliveryStatuses)[number];

/**
 * One event to one endpoint. Claimed by the worker with `FOR UPDATE SKIP LOCKED`: `claim` names
 * the attempt in flight and `nextAttemptAt` holds its lease meanwhile, so an attempt whose
 * process died is made again once the lease lapses.
 */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: text().primaryKey(),
    eventId: text().notNull(),
    endpointId: text().notNull(),
    status: text().$type<WebhookDeliveryStatus>().notNull(),
    attemptCount: integer().notNull().default(0),
    nextAttemptAt: timestamptz("next_attempt_at"),
    claim: text(),
    createdAt: timestamptz("created_at").notNull(),
  },
  (t) => [
    index("webhook_deliveries_due_idx").on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    // Pruning deletes an event's deliveries. No query looks deliveries up by endpoint (the
    // delivery log reads webhook_attempts), so no index on endpoint_id: each delivery updates
    // its row twice, and each non-HOT update writes every index.
    index("webhook_deliveries_event_idx").on(t.eventId),
  ],
);

export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;

/** The log of attempts: what the endpoint answered (first 1 KiB), how long it took, or the error. */
export const webhookAttempts = pgTable(
  "webhook_attempts",
  {
    id: text().primaryKey(),
    deliveryId: text().notNull(),
    endpointId: text().notNull(),
    eventId: text().notNull(),
    eventType: text().notNull(),
    attempt: integer().notNull(),
    statusCode: integer(),
    durationMs: integer().notNull(),
    error: text(),
    responseExcerpt: text(),
    succeeded: boolean().notNull(),
    createdAt: timestamptz("created_at").notNull(),
  },
  (t) => [index("webhook_attempts_endpoint_idx").on(t.endpointId, t.createdAt, t.id)],
);

export type WebhookAttemptRow = typeof webhookAttempts.$inferSelect;
