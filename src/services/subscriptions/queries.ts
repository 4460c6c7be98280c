import { and, desc, eq, getTableColumns, inArray, sql } from "drizzle-orm";
import type { Tx } from "../../db/client.ts";
import { preparedRead } from "../../db/prepared.ts";
import {
  liveSubscriptionStatuses,
  type SubscriptionRow,
  subscriptions,
} from "../../db/schema/index.ts";
import { AppError } from "../../errors.ts";
import { chargeableCard } from "../collection.ts";
import type { ServiceContext } from "../context.ts";
import { findOwnedCustomer } from "../customers.ts";
import { decodeCursor, olderThan, type Page, type PageInput, toPage } from "../pagination.ts";
import { assertOwns, type Principal } from "../principal.ts";
import {
  presentRow,
  presentSubscription,
  presentSubscriptions,
  type Subscription,
} from "./presentation.ts";

/** Statuses in which a subscription may change plan. */
export const changeableStatuses = ["trialing", "active", "past_due"] as const;

/**
 * Statuses whose periods keep cycling at their ends. An `unpaid` subscription's periods go on
 * (as Stripe's do) but their invoices stay drafts, never charged: paying the open invoice later
 * does not bill the past in a burst.
 */
export const renewingStatuses = [...changeableStatuses, "unpaid"] as const;

/**
 * The platform's live subscription (at most one: a unique index holds it), if any; read in `tx`
 * when given, and locked (`forUpdate`) when the caller decides on it.
 */
export const findLiveSubscription = async ({
  ctx,
  tx,
  input,
  forUpdate = false,
}: {
  ctx: ServiceContext;
  tx?: Tx | undefined;
  input: { platformId: string };
  forUpdate?: boolean;
}): Promise<SubscriptionRow | undefined> => {
  const query = (tx ?? ctx.db)
    .select()
    .from(subscriptions)
    .where(
      and(
        eq(subscriptions.platformId, input.platformId),
        inArray(subscriptions.status, [...liveSubscriptionStatuses]),
      ),
    )
    .limit(1);
  const [row] = forUpdate ? await query.for("update") : await query;
  return row;
};

/** The platform's live subscription; 404 when it has none. */
export const requireLiveSubscription = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string };
}): Promise<SubscriptionRow> => {
  const live = await findLiveSubscription({ ctx, input });
  if (!live) throw noSubscription(input.platformId);
  return live;
};

const noSubscription = (platformId: string) =>
  new AppError("NOT_FOUND", `platform '${platformId}' has no subscription`);

/** The platform's most recent subscription, live or ended, if any. */
export const latestSubscription = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string };
}): Promise<SubscriptionRow | undefined> => {
  const [row] = await ctx.db
    .select()
    .from(subscriptions)
    .where(eq(subscriptions.platformId, input.platformId))
    .orderBy(desc(subscriptions.createdAt), desc(subscriptions.id))
    .limit(1);
  return row;
};

/** A subscription the caller may see; another platform's is reported missing. */
export const findOwnedSubscription = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { subscriptionId: string };
}): Promise<SubscriptionRow> => {
  const [row] = await ctx.db
    .select()
    .from(subscriptions)
    .where(eq(subscriptions.id, input.subscriptionId));
  assertOwns(principal, row, "subscription", input.subscriptionId);
  return row;
};

export const getSubscription = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { subscriptionId: string };
}): Promise<Subscription> =>
  presentSubscription(ctx.db, await findOwnedSubscription({ ctx, principal, input }));

export const getPlatformSubscription = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string };
}): Promise<Subscription> => {
  const [row] = await liveSubscriptionWithCard(ctx.db).execute({ platformId: input.platformId });
  if (!row) throw noSubscription(input.platformId);
  const { nextChargePaymentMethodId, ...subscription } = row;
  return presentRow(subscription, nextChargePaymentMethodId);
};

/** The platform's live subscription and its next charge's card in one prepared read. */
const liveSubscriptionWithCard = preparedRead("live_subscription_with_card", (db, name) =>
  db
    .select({
      ...getTableColumns(subscriptions),
      nextChargePaymentMethodId: chargeableCard("subscriptions"),
    })
    .from(subscriptions)
    .where(
      and(
        eq(subscriptions.platformId, sql.placeholder("platformId")),
        inArray(subscriptions.status, [...liveSubscriptionStatuses]),
      ),
    )
    .limit(1)
    .prepare(name),
);

/** The customer's subscriptions, newest first. */
export const listCustomerSubscriptions = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { customerId: string; page: PageInput };
}): Promise<Page<Subscription>> => {
  const customer = await findOwnedCustomer({ ctx, principal, input });
  const rows = await ctx.db
    .select()
    .from(subscriptions)
    .where(
      and(
        eq(subscriptions.customerId, customer.id),
        olderThan(decodeCursor(input.page.cursor), subscriptions.createdAt, subscriptions.id),
      ),
    )
    .orderBy(desc(subscriptions.createdAt), desc(subscriptions.id))
    .limit(input.page.limit + 1);
  const listed = toPage(
    rows,
    input.page.limit,
    (r) => ({ createdAt: r.createdAt, id: r.id }),
    (r) => r,
  );
  return { ...listed, data: await presentSubscriptions(ctx.db, listed.data) };
};
