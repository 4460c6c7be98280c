import { and, eq, inArray, sql } from "drizzle-orm";
import type { Tx } from "../db/client.ts";
import { preparedRead } from "../db/prepared.ts";
import {
  type CustomerRow,
  customers,
  liveSubscriptionStatuses,
  type PostalAddress,
  subscriptions,
} from "../db/schema/index.ts";
import { AppError, notFound } from "../errors.ts";
import type { ProcessorCustomer } from "../processor/stripe-processor.ts";
import type { ServiceContext } from "./context.ts";
import { type NewEvent, recordEvents } from "./events/record-event.ts";
import { assertOwns, type Principal } from "./principal.ts";

export interface Customer {
  id: string;
  platformId: string | null;
  email: string | null;
  name: string | null;
  metadata: Record<string, string>;
  defaultPaymentMethodId: string | null;
  /** Printed on invoices; kept by this service only. */
  address: PostalAddress | null;
  taxId: string | null;
  createdAt: string;
}

/** What documents print about the buyer; null clears a field. */
export interface BillingDetails {
  address?: PostalAddress | null | undefined;
  taxId?: string | null | undefined;
}

/** Stores the buyer details documents print (never sent to the processor). */
const storeBillingDetails = async (
  tx: Tx,
  customerId: string,
  details: BillingDetails,
  now: Date,
): Promise<CustomerRow | undefined> => {
  if (details.address === undefined && details.taxId === undefined) return undefined;
  const [row] = await tx
    .update(customers)
    .set({
      ...(details.address !== undefined ? { address: details.address } : {}),
      ...(details.taxId !== undefined ? { taxId: details.taxId } : {}),
      updatedAt: now,
    })
    .where(eq(customers.id, customerId))
    .returning();
  return row;
};

export const presentCustomer = (row: CustomerRow): Customer => ({
  id: row.id,
  platformId: row.platformId,
  email: row.email,
  name: row.name,
  metadata: row.metadata,
  defaultPaymentMethodId: row.defaultPaymentMethodId,
  address: row.address ?? null,
  taxId: row.taxId ?? null,
  createdAt: row.createdAt.toISOString(),
});

/**
 * Subscriptions that may still be charged, and so follow their customer's default card: the live
 * ones, and canceled ones (a final invoice may still be collected).
 */
const followingStatuses = [...liveSubscriptionStatuses, "canceled"] as const;

/**
 * The customer's default card changed from `from` to `to` (set as default through the API, in
 * the portal, or by a PATCH of the subscription): every subscription of the customer whose own
 * card was `from` follows to `to`. Stripe charges a subscription's `default_payment_method`
 * before the customer's default, so without this a subscription would keep charging the card the
 * customer replaced. A subscription whose card is another one keeps it. A conditional update:
 * the card and the status are re-checked in it, and the version moves on.
 */
const followCustomerDefault = async (
  tx: Tx,
  customerId: string,
  from: string,
  to: string,
  now: Date,
) => {
  await tx
    .update(subscriptions)
    .set({
      defaultPaymentMethodId: to,
      version: sql`${subscriptions.version} + 1`,
      updatedAt: now,
    })
    .where(
      and(
        eq(subscriptions.customerId, customerId),
        eq(subscriptions.defaultPaymentMethodId, from),
        inArray(subscriptions.status, [...followingStatuses]),
      ),
    );
};

/**
 * The events of a customer's change from `before` (undefined: it was just created) to `after`:
 * created; updated (email, name, metadata, with their old values); its default card changed.
 */
const customerEvents = (before: CustomerRow | undefined, after: CustomerRow): NewEvent[] => {
  const object = presentCustomer(after);
  const platformId = after.platformId;
  if (!before) return [{ type: "customer.created", platformId, object }];
  const events: NewEvent[] = [];
  const changed: Record<string, unknown> = {};
  if (before.email !== after.email) changed.email = before.email;
  if (before.name !== after.name) changed.name = before.name;
  if (JSON.stringify(before.metadata) !== JSON.stringify(after.metadata)) {
    changed.metadata = before.metadata;
  }
  if (Object.keys(changed).length > 0) {
    events.push({ type: "customer.updated", platformId, object, previousAttributes: changed });
  }
  if (before.defaultPaymentMethodId !== after.defaultPaymentMethodId) {
    events.push({
      type: "customer.default_payment_method_changed",
      platformId,
      object,
      previousAttributes: { defaultPaymentMethodId: before.defaultPaymentMethodId },
    });
  }
  return events;
};

/**
 * Writes what the processor says about a customer into the local view. When this changes its
 * default card, the subscriptions that used the old one follow (`followCustomerDefault`), in the
 * same transaction: its subscriptions' rows are locked first, then the customer's (the order the
 * renewals and plan changes lock them in), so the old default is read under the lock.
 */
export const storeCustomer = async ({
  tx,
  input: { customer, now, platformId },
}: {
  tx: Tx;
  input: { customer: ProcessorCustomer; now: Date; platformId?: string | null | undefined };
}): Promise<CustomerRow> =>
  tx.transaction(async (inner) => {
    await inner
      .select({ id: subscriptions.id })
      .from(subscriptions)
      .where(
        and(
          eq(subscriptions.customerId, customer.id),
          inArray(subscriptions.status, [...followingStatuses]),
        ),
      )
      .orderBy(subscriptions.id)
      .for("update");
    const [before] = await inner
      .select()
      .from(customers)
      .where(eq(customers.id, customer.id))
      .for("update");
    const fields = {
      email: customer.email,
      name: customer.name,
      metadata: customer.metadata,
      defaultPaymentMethodId: customer.defaultPaymentMethodId,
      updatedAt: now,
    };
    const [row] = await inner
      .insert(customers)
      .values({
        id: customer.id,
        platformId: platformId ?? null,
        createdAt: customer.createdAt,
        ...fields,
      })
      .onConflictDoUpdate({ target: customers.id, set: fields })
      .returning();
    if (!row) throw new Error("customer upsert returned no row");
    const from = before?.defaultPaymentMethodId;
    const to = customer.defaultPaymentMethodId;
    if (from && to && from !== to) await followCustomerDefault(inner, customer.id, from, to, now);
    await recordEvents({ tx: inner, input: { now, events: customerEvents(before, row) } });
    return row;
  });

/**
 * A customer the caller may see: the operator sees every customer, a platform only its own.
 * Someone else's customer is reported as missing, so ids reveal nothing.
 */
export const findOwnedCustomer = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { customerId: string };
}): Promise<CustomerRow> => {
  const [row] = await ctx.db.select().from(customers).where(eq(customers.id, input.customerId));
  assertOwns(principal, row, "customer", input.customerId);
  return row;
};

export const customerOfPlatform = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string };
}): Promise<CustomerRow> => {
  const [row] = await customerByPlatform(ctx.db).execute({ platformId: input.platformId });
  if (!row) throw notFound("platform", input.platformId);
  return row;
};

const customerByPlatform = preparedRead("customer_by_platform", (db, name) =>
  db
    .select()
    .from(customers)
    .where(eq(customers.platformId, sql.placeholder("platformId")))
    .prepare(name),
);

/** A customer that belongs to no platform, created directly by the operator. */
export const createCustomer = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: {
    email: string;
    name?: string | undefined;
    metadata?: Record<string, string> | undefined;
    /** The caller's scoped Idempotency-Key, handed on to the processor. */
    idempotencyKey?: string | undefined;
  } & BillingDetails;
}): Promise<Customer> => {
  if (principal.kind !== "operator") {
    throw new AppError(
      "FORBIDDEN",
      "a platform has exactly one customer, created with the platform; only the operator creates others",
    );
  }
  const created = await ctx.processor.createCustomer(
    {
      email: input.email,
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.metadata !== undefined ? { metadata: input.metadata } : {}),
    },
    input.idempotencyKey
      ? { idempotencyKey: `customer-create-${input.idempotencyKey}` }
      : undefined,
  );
  const now = ctx.clock.now();
  const stored = await storeCustomer({ tx: ctx.db, input: { customer: created, now } });
  return presentCustomer((await storeBillingDetails(ctx.db, stored.id, input, now)) ?? stored);
};

export const getCustomer = async (args: {
  ctx: ServiceContext;
  principal: Principal;
  input: { customerId: string };
}): Promise<Customer> => presentCustomer(await findOwnedCustomer(args));

export const updateCustomer = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: {
    customerId: string;
    email?: string | undefined;
    name?: string | undefined;
    metadata?: Record<string, string> | undefined;
  } & BillingDetails;
}): Promise<Customer> => {
  const { customerId, address, taxId, ...fields } = input;
  const existing = await findOwnedCustomer({ ctx, principal, input: { customerId } });
  const patch = Object.fromEntries(
    Object.entries(fields).filter(([, value]) => value !== undefined),
  ) as { email?: string; name?: string; metadata?: Record<string, string> };
  const now = ctx.clock.now();
  // Only address or tax id: nothing for the processor to hear about.
  const stored =
    Object.keys(patch).length === 0
      ? existing
      : await storeCustomer({
          tx: ctx.db,
          input: {
            customer: await ctx.processor.updateCustomer(existing.id, patch),
            now,
            platformId: existing.platformId,
          },
        });
  return presentCustomer(
    (await storeBillingDetails(ctx.db, existing.id, { address, taxId }, now)) ?? stored,
  );
};
