import { notFound } from "../../errors.ts";
import type { ServiceContext } from "../context.ts";
import type { UsageSubscription } from "./usage-period.ts";

/**
 * Which platforms exist, each with what usage needs of its live subscription (or null), in one
 * prepared statement: every usage request, read or write, starts with it.
 */
export const platformSubscriptions = ({
  ctx,
  platformIds,
}: {
  ctx: ServiceContext;
  platformIds: readonly string[];
}): Promise<Map<string, UsageSubscription | null>> => ctx.usage.platformSubscriptions(platformIds);

/** The live subscription of one platform that must exist (404 otherwise). */
export const platformSubscriptionOrNotFound = async ({
  ctx,
  platformId,
}: {
  ctx: ServiceContext;
  platformId: string;
}): Promise<UsageSubscription | null> => {
  const found = await platformSubscriptions({ ctx, platformIds: [platformId] });
  const subscription = found.get(platformId);
  if (subscription === undefined) throw notFound("platform", platformId);
  return subscription;
};
