import { and, desc, eq, inArray, lt, type SQL } from "drizzle-orm";
import {
  type EventRow,
  events,
  webhookAttempts,
  webhookDeliveries,
} from "../../db/schema/index.ts";
import { forbidden, notFound } from "../../errors.ts";
import type { ServiceContext } from "../context.ts";
import { decodeCursor, olderThan, type Page, type PageInput, toPage } from "../pagination.ts";
import { assertOwns, type Principal } from "../principal.ts";

/** An event as the API returns it and as webhooks deliver it. */
export interface Event {
  id: string;
  type: string;
  createdAt: string;
  platformId: string | null;
  data: { object: Record<string, unknown> };
  previousAttributes?: Record<string, unknown>;
}

export const presentEvent = (row: EventRow): Event => ({
  id: row.id,
  type: row.type,
  createdAt: row.createdAt.toISOString(),
  platformId: row.platformId,
  data: row.data as Event["data"],
  ...(row.previousAttributes ? { previousAttributes: row.previousAttributes } : {}),
});

/**
 * The platforms whose events a caller sees: a platform key its own (asking for another is 403),
 * the operator every platform's and the operator's own, or one platform's when it names one.
 */
const visibleTo = (principal: Principal, platformId: string | undefined): SQL | undefined => {
  if (principal.kind === "operator") {
    return platformId === undefined ? undefined : eq(events.platformId, platformId);
  }
  if (principal.kind === "platform") {
    if (platformId !== undefined && platformId !== principal.platformId) {
      throw forbidden(`this key belongs to platform '${principal.platformId}'`);
    }
    return eq(events.platformId, principal.platformId);
  }
  throw forbidden("a usage:write service key may only ingest usage events");
};

/** Events, newest first, of the caller's platform (the operator: all, or one platform's). */
export const listEvents = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: PageInput & { platformId?: string | undefined; type?: string[] | undefined };
}): Promise<Page<Event>> => {
  const after = decodeCursor(input.cursor);
  const rows = await ctx.db
    .select()
    .from(events)
    .where(
      and(
        visibleTo(principal, input.platformId),
        input.type && input.type.length > 0 ? inArray(events.type, input.type) : undefined,
        olderThan(after, events.createdAt, events.id),
      ),
    )
    .orderBy(desc(events.createdAt), desc(events.id))
    .limit(input.limit + 1);
  return toPage(rows, input.limit, (r) => r, presentEvent);
};

/** One event the caller may see; another platform's is reported missing. */
export const findOwnedEvent = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { id: string };
}): Promise<EventRow> => {
  if (principal.kind === "service") {
    throw forbidden("a usage:write service key may only ingest usage events");
  }
  const [row] = await ctx.db.select().from(events).where(eq(events.id, input.id));
  if (row && principal.kind !== "operator" && row.platformId === null) {
    throw notFound("event", input.id);
  }
  assertOwns(principal, row, "event", input.id);
  return row;
};

export const getEvent = async (args: {
  ctx: ServiceContext;
  principal: Principal;
  input: { id: string };
}): Promise<Event> => presentEvent(await findOwnedEvent(args));

/** Deletes up to `limit` events older than the retention, with their finished deliveries. */
export const pruneEvents = async ({
  ctx,
  limit = 1000,
}: {
  ctx: ServiceContext;
  limit?: number;
}): Promise<number> => {
  const cutoff = new Date(
    ctx.clock.now().getTime() - ctx.config.webhooks.eventRetentionDays * 86_400_000,
  );
  const old = ctx.db
    .select({ id: events.id })
    .from(events)
    .where(lt(events.createdAt, cutoff))
    .limit(limit);
  const deleted = await ctx.db
    .delete(events)
    .where(inArray(events.id, old))
    .returning({ id: events.id });
  if (deleted.length > 0) {
    const ids = deleted.map((d) => d.id);
    await ctx.db.delete(webhookDeliveries).where(inArray(webhookDeliveries.eventId, ids));
    await ctx.db.delete(webhookAttempts).where(inArray(webhookAttempts.eventId, ids));
  }
  return deleted.length;
};
