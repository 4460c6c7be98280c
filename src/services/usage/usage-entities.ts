import { and, desc, eq, lt, or } from "drizzle-orm";
import { usageTenants } from "../../db/schema/index.ts";
import type { ServiceContext } from "../context.ts";
import { decodeCursor, type Page, toPage } from "../pagination.ts";
import { platformSubscriptionOrNotFound } from "./platform-context.ts";

export interface UsageEntity {
  tenantId: string;
  firstSeen: string;
  lastSeen: string;
  eventCount: number;
}

/**
 * Tenants of a platform that have usage, most recently appeared first, with the time of their
 * first and last event and how many events they sent. The keyset is (first arrival, tenant id),
 * which never changes, so pages do not shift when tenants appear or send more events.
 */
export const listUsageEntities = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string; limit: number; cursor?: string | undefined };
}): Promise<Page<UsageEntity>> => {
  const after = decodeCursor(input.cursor);
  await platformSubscriptionOrNotFound({ ctx, platformId: input.platformId });
  const t = usageTenants;
  const rows = await ctx.db
    .select()
    .from(t)
    .where(
      and(
        eq(t.platformId, input.platformId),
        after
          ? or(
              lt(t.createdAt, after.createdAt),
              and(eq(t.createdAt, after.createdAt), lt(t.tenantId, after.id)),
            )
          : undefined,
      ),
    )
    .orderBy(desc(t.createdAt), desc(t.tenantId))
    .limit(input.limit + 1);
  return toPage(
    rows,
    input.limit,
    (row) => ({ createdAt: row.createdAt, id: row.tenantId }),
    (row) => ({
      tenantId: row.tenantId,
      firstSeen: row.firstSeen.toISOString(),
      lastSeen: row.lastSeen.toISOString(),
      eventCount: row.eventCount,
    }),
  );
};
