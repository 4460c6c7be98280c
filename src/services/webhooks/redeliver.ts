import { and, desc, eq, isNull, or, sql } from "drizzle-orm";
import {
  type WebhookAttemptRow,
  webhookAttempts,
  webhookDeliveries,
  webhookEndpoints,
} from "../../db/schema/index.ts";
import { invalid } from "../../errors.ts";
import { newId } from "../../ids.ts";
import type { ServiceContext } from "../context.ts";
import { findOwnedEvent } from "../events/queries.ts";
import { recordEvent, WEBHOOK_CHANNEL } from "../events/record-event.ts";
import { decodeCursor, olderThan, type Page, type PageInput, toPage } from "../pagination.ts";
import type { Principal } from "../principal.ts";
import { ownedEndpoint } from "./endpoints.ts";

export interface WebhookAttempt {
  id: string;
  deliveryId: string;
  eventId: string;
  eventType: string;
  attempt: number;
  succeeded: boolean;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseExcerpt: string | null;
  createdAt: string;
}

const presentAttempt = (row: WebhookAttemptRow): WebhookAttempt => ({
  id: row.id,
  deliveryId: row.deliveryId,
  eventId: row.eventId,
  eventType: row.eventType,
  attempt: row.attempt,
  succeeded: row.succeeded,
  statusCode: row.statusCode,
  durationMs: row.durationMs,
  error: row.error,
  responseExcerpt: row.responseExcerpt,
  createdAt: row.createdAt.toISOString(),
});

/** The delivery log of an endpoint: every attempt, newest first. */
export const listDeliveryAttempts = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: PageInput & { endpointId: string };
}): Promise<Page<WebhookAttempt>> => {
  const endpoint = await ownedEndpoint({ ctx, principal, input: { id: input.endpointId } });
  const after = decodeCursor(input.cursor);
  const rows = await ctx.db
    .select()
    .from(webhookAttempts)
    .where(
      and(
        eq(webhookAttempts.endpointId, endpoint.id),
        olderThan(after, webhookAttempts.createdAt, webhookAttempts.id),
      ),
    )
    .orderBy(desc(webhookAttempts.createdAt), desc(webhookAttempts.id))
    .limit(input.limit + 1);
  return toPage(rows, input.limit, (r) => r, presentAttempt);
};

/** New pending deliveries, due at once, and a wake-up for the workers. */
const enqueue = async (ctx: ServiceContext, eventId: string, endpointIds: string[]) => {
  const now = ctx.clock.now();
  await ctx.db.transaction(async (tx) => {
    await tx.insert(webhookDeliveries).values(
      endpointIds.map((endpointId) => ({
        id: newId("whd"),
        eventId,
        endpointId,
        status: "pending" as const,
        nextAttemptAt: now,
        createdAt: now,
      })),
    );
    await tx.execute(sql`select pg_notify(${WEBHOOK_CHANNEL}, '')`);
  });
};

/**
 * Sends an event again: to the given endpoint, or to every enabled endpoint of the caller that
 * would receive it (a platform's own; the operator's). A new delivery with its own attempts;
 * `webhook-id` stays the event id, so a receiver that saw it already can tell.
 */
export const redeliverEvent = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { eventId: string; endpointId?: string | undefined };
}): Promise<{ eventId: string; endpointIds: string[] }> => {
  const event = await findOwnedEvent({ ctx, principal, input: { id: input.eventId } });
  let endpointIds: string[];
  if (input.endpointId !== undefined) {
    const endpoint = await ownedEndpoint({ ctx, principal, input: { id: input.endpointId } });
    if (endpoint.platformId !== null && endpoint.platformId !== event.platformId) {
      throw invalid("that endpoint does not receive this event's platform");
    }
    endpointIds = [endpoint.id];
  } else {
    // A platform's own endpoints; for the operator, the operator's and the event's platform's.
    const owner = principal.kind === "platform" ? principal.platformId : null;
    const rows = await ctx.db
      .select({ id: webhookEndpoints.id, enabledEvents: webhookEndpoints.enabledEvents })
      .from(webhookEndpoints)
      .where(
        and(
          eq(webhookEndpoints.disabled, false),
          owner !== null
            ? eq(webhookEndpoints.platformId, owner)
            : event.platformId === null
              ? isNull(webhookEndpoints.platformId)
              : or(
                  isNull(webhookEndpoints.platformId),
                  eq(webhookEndpoints.platformId, event.platformId),
                ),
        ),
      );
    endpointIds = rows
      .filter((r) => r.enabledEvents.includes("*") || r.enabledEvents.includes(event.type))
      .map((r) => r.id);
  }
  if (endpointIds.length > 0) await enqueue(ctx, event.id, endpointIds);
  return { eventId: event.id, endpointIds };
};

/** Sends a `ping` event to one endpoint (stored as an event of the endpoint's owner). */
export const sendTestPing = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { endpointId: string };
}): Promise<{ eventId: string }> => {
  const endpoint = await ownedEndpoint({ ctx, principal, input: { id: input.endpointId } });
  const now = ctx.clock.now();
  const eventId = await ctx.db.transaction(async (tx) => {
    const id = await recordEvent({
      tx,
      input: {
        now,
        type: "ping",
        platformId: endpoint.platformId,
        object: { message: "ping from NNO billing", endpointId: endpoint.id },
      },
    });
    if (!id) throw new Error("ping event not recorded");
    await tx.insert(webhookDeliveries).values({
      id: newId("whd"),
      eventId: id,
      endpointId: endpoint.id,
      status: "pending",
      nextAttemptAt: now,
      createdAt: now,
    });
    await tx.execute(sql`select pg_notify(${WEBHOOK_CHANNEL}, '')`);
    return id;
  });
  return { eventId };
};
