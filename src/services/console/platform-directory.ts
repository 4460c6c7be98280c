import { and, desc, eq, ilike, inArray, or } from "drizzle-orm";
import { monthlyAmount, revenueStatuses } from "../../billing/mrr.ts";
import { liveSubscriptionStatuses, platforms, subscriptions } from "../../db/schema/index.ts";
import type { ServiceContext } from "../context.ts";
import { decodeCursor, olderThan, type Page, toPage } from "../pagination.ts";

export interface PlatformListing {
  platformId: string;
  name: string;
  email: string;
  createdAt: string;
  /** The live subscription's, or null without one. */
  tier: string | null;
  status: string | null;
  currency: string | null;
  /** Monthly-normalised price while it pays (active, past_due), else 0; minor units. */
  mrr: number;
}

/** `%`, `_` and `\` taken literally inside an ILIKE pattern. */
const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * Platforms newest first, with their live subscription's tier, status and MRR; `q` matches the
 * id, name or email (case-insensitive substring).
 */
export const searchPlatforms = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { q?: string | undefined; limit: number; cursor?: string | undefined };
}): Promise<Page<PlatformListing>> => {
  const after = decodeCursor(input.cursor);
  const q = input.q?.trim();
  const pattern = q ? likePattern(q) : undefined;
  const rows = await ctx.db
    .select({ platform: platforms, subscription: subscriptions })
    .from(platforms)
    .leftJoin(
      subscriptions,
      and(
        eq(subscriptions.platformId, platforms.platformId),
        inArray(subscriptions.status, [...liveSubscriptionStatuses]),
      ),
    )
    .where(
      and(
        olderThan(after, platforms.createdAt, platforms.platformId),
        pattern
          ? or(
              ilike(platforms.platformId, pattern),
              ilike(platforms.name, pattern),
              ilike(platforms.email, pattern),
            )
          : undefined,
      ),
    )
    .orderBy(desc(platforms.createdAt), desc(platforms.platformId))
    .limit(input.limit + 1);
  return toPage(
    rows,
    input.limit,
    (r) => ({ createdAt: r.platform.createdAt, id: r.platform.platformId }),
    ({ platform, subscription: sub }) => ({
      platformId: platform.platformId,
      name: platform.name,
      email: platform.email,
      createdAt: platform.createdAt.toISOString(),
      tier: sub?.tier ?? null,
      status: sub?.status ?? null,
      currency: sub?.currency ?? null,
      mrr:
        sub && revenueStatuses.has(sub.status)
          ? monthlyAmount({ ...sub, amount: sub.unitAmount })
          : 0,
    }),
  );
};
