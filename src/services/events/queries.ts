import { and, desc, eq, inArray, lt, sql } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { preparedRead } from "../../db/prepared.ts";
import {
  type EventRow,
  events,
  webhookAttempts,
  webhookDeliveries,
} from "../../db/schema/index.ts";
import { forbidden, notFound } from "../../errors.ts";
import type { ServiceContext } from "../context.ts";
import {
  olderThanPlaceholder,
  type Page,
  type PageInput,
  pagePlaceholders,
  toPage,
} from "../pagination.ts";
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
 * The platform whose events a caller sees: a platform key its own (asking for another is 403),
 * the operator one platform's when it names one, else (undefined) every platform's and the
 * operator's own.
 */
const visiblePlatform = (
  principal: Principal,
  platformId: string | undefined,
): string | undefined => {
  if (principal.kind === "operator") return platformId;
  if (principal.kind === "platform") {
    if (platformId !== undefined && platformId !== principal.platformId) {
      throw forbidden(`this key belongs to platform '${principal.platformId}'`);
    }
    return principal.platformId;
  }
  throw forbidden("a usage:write service key may only ingest usage events");
};

/** A page of events, newest first, of one platform or (`byPlatform` false) all of them. */
const eventsPage = (byPlatform: boolean) => (db: Db, name: string) =>
  db
    .select()
    .from(events)
    .where(
      and(
        byPlatform ? eq(events.platformId, sql.placeholder("platformId")) : undefined,
        sql`(${sql.placeholder("types")}::text[] is null or ${events.type} = any(${sql.placeholder("types")}::text[]))`,
        olderThanPlaceholder(events.createdAt, events.id),
      ),
    )
    .orderBy(desc(events.createdAt), desc(events.id))
    .limit(sql.placeholder("limit"))
    .prepare(name);
const eventsOfPlatform = preparedRead("events_of_platform", eventsPage(true));
const eventsOfAll = preparedRead("events_of_all_platforms", eventsPage(false));

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
  const platformId = visiblePlatform(principal, input.platformId);
  const values = {
    types: input.type && input.type.length > 0 ? input.type : null,
    ...pagePlaceholders(input),
  };
  const rows =
    platformId === undefined
      ? await eventsOfAll(ctx.db).execute(values)
      : await eventsOfPlatform(ctx.db).execute({ ...values, platformId });
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
