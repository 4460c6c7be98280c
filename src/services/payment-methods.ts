import { and, desc, eq, sql } from "drizzle-orm";
import type { Tx } from "../db/client.ts";
import { preparedRead } from "../db/prepared.ts";
import {
  type CustomerRow,
  customers,
  type PaymentMethodRow,
  paymentMethods,
  subscriptions,
} from "../db/schema/index.ts";
import { AppError, notFound } from "../errors.ts";
import type { ProcessorPaymentMethod } from "../processor/stripe-processor.ts";
import { retryOpenInvoices } from "./collection.ts";
import type { ServiceContext } from "./context.ts";
import {
  customerOfPlatform,
  findOwnedCustomer,
  presentCustomer,
  storeCustomer,
} from "./customers.ts";
import { recordEvent } from "./events/record-event.ts";
import {
  olderThanPlaceholder,
  type Page,
  type PageInput,
  pagePlaceholders,
  toPage,
} from "./pagination.ts";
import type { Principal } from "./principal.ts";

export interface PaymentMethod {
  id: string;
  type: string;
  customerId: string | null;
  card: { brand: string; last4: string; expMonth: number; expYear: number } | null;
  isDefault: boolean;
  createdAt: string;
}

const presentRow = (row: PaymentMethodRow, defaultId: string | null): PaymentMethod => ({
  id: row.id,
  type: row.type,
  customerId: row.customerId,
  card:
    row.brand && row.last4
      ? {
          brand: row.brand,
          last4: row.last4,
          expMonth: row.expMonth ?? 0,
          expYear: row.expYear ?? 0,
        }
      : null,
  isDefault: row.id === defaultId,
  createdAt: row.createdAt.toISOString(),
});

const presentProcessor = (pm: ProcessorPaymentMethod, defaultId: string | null): PaymentMethod => ({
  id: pm.id,
  type: pm.type,
  customerId: pm.customerId,
  card: pm.card,
  isDefault: pm.id === defaultId,
  createdAt: pm.createdAt.toISOString(),
});

/**
 * Drops a payment method that left its customer from the local view; no subscription keeps
 * reporting it as its card (collection never charges it: see `attemptCard`).
 */
const forgetPaymentMethod = async (tx: Tx, customerId: string, id: string, now: Date) => {
  const forgotten = await tx.delete(paymentMethods).where(eq(paymentMethods.id, id)).returning();
  await recordDetached(tx, forgotten, now);
  await tx
    .update(subscriptions)
    .set({
      defaultPaymentMethodId: null,
      version: sql`${subscriptions.version} + 1`,
      updatedAt: now,
    })
    .where(
      and(eq(subscriptions.customerId, customerId), eq(subscriptions.defaultPaymentMethodId, id)),
    );
};

/** The customer's platform and default card, for a payment method's event. */
const ownerOf = async (tx: Tx, customerId: string) => {
  const [row] = await tx
    .select({ platformId: customers.platformId, defaultId: customers.defaultPaymentMethodId })
    .from(customers)
    .where(eq(customers.id, customerId));
  return row ?? { platformId: null, defaultId: null };
};

/** `payment_method.detached` for local payment methods just removed (as the detach API shows them). */
const recordDetached = async (tx: Tx, removed: PaymentMethodRow[], now: Date) => {
  for (const row of removed) {
    const { platformId } = await ownerOf(tx, row.customerId);
    await recordEvent({
      tx,
      input: {
        now,
        type: "payment_method.detached",
        platformId,
        object: { ...presentRow(row, null), customerId: null },
      },
    });
  }
};

/** Writes a processor payment method into the local view (attached) or removes it (detached). */
export const storePaymentMethod = async ({
  tx,
  input: { paymentMethod: pm, now },
}: {
  tx: Tx;
  input: { paymentMethod: ProcessorPaymentMethod; now: Date };
}): Promise<void> =>
  tx.transaction(async (tx) => {
    if (!pm.customerId) {
      const removed = await tx
        .delete(paymentMethods)
        .where(eq(paymentMethods.id, pm.id))
        .returning();
      await recordDetached(tx, removed, now);
      return;
    }
    const [known] = await tx
      .select({ customerId: paymentMethods.customerId })
      .from(paymentMethods)
      .where(eq(paymentMethods.id, pm.id));
    const fields = {
      customerId: pm.customerId,
      type: pm.type,
      brand: pm.card?.brand ?? null,
      last4: pm.card?.last4 ?? null,
      expMonth: pm.card?.expMonth ?? null,
      expYear: pm.card?.expYear ?? null,
      updatedAt: now,
    };
    const [row] = await tx
      .insert(paymentMethods)
      .values({ id: pm.id, createdAt: pm.createdAt, ...fields })
      .onConflictDoUpdate({ target: paymentMethods.id, set: fields })
      .returning();
    if (row && known?.customerId !== pm.customerId) {
      const owner = await ownerOf(tx, pm.customerId);
      await recordEvent({
        tx,
        input: {
          now,
          type: "payment_method.attached",
          platformId: owner.platformId,
          object: presentRow(row, owner.defaultId),
        },
      });
    }
  });

/**
 * Re-reads a customer and all its payment methods from the processor and replaces the local
 * view with them. Webhooks call this rather than applying event payloads, so events that arrive
 * late or out of order still end in the processor's current state.
 */
export const resyncCustomer = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { customerId: string };
}): Promise<void> => {
  const { customerId } = input;
  const [known] = await ctx.db.select().from(customers).where(eq(customers.id, customerId));
  if (!known) return; // not one of ours
  let customer: Awaited<ReturnType<typeof ctx.processor.retrieveCustomer>>;
  try {
    customer = await ctx.processor.retrieveCustomer(customerId);
  } catch (error) {
    if (error instanceof AppError && error.code === "NOT_FOUND") return; // deleted there
    throw error;
  }
  const methods = await ctx.processor.listPaymentMethods(customerId);
  const now = ctx.clock.now();
  await ctx.db.transaction(async (tx) => {
    await storeCustomer({ tx, input: { customer, now, platformId: known.platformId } });
    const keep = new Set(methods.map((m) => m.id));
    const local = await tx
      .select({ id: paymentMethods.id })
      .from(paymentMethods)
      .where(eq(paymentMethods.customerId, customerId));
    for (const row of local) {
      if (keep.has(row.id)) continue;
      // Removed elsewhere (the portal).
      await forgetPaymentMethod(tx, customerId, row.id, now);
    }
    for (const method of methods)
      await storePaymentMethod({ tx, input: { paymentMethod: method, now } });
  });
  // A new default set elsewhere (the portal) is a chance to collect what is overdue.
  if (
    customer.defaultPaymentMethodId &&
    customer.defaultPaymentMethodId !== known.defaultPaymentMethodId
  ) {
    await retryOpenInvoices({ ctx, customerId });
  }
};

/** A page of the customer's payment methods, newest first (as the billing portal lists them). */
const listLocal = async (
  ctx: ServiceContext,
  customer: { id: string; defaultPaymentMethodId: string | null },
  page: PageInput,
  type?: string,
): Promise<Page<PaymentMethod>> => {
  const rows = await paymentMethodsOf(ctx.db).execute({
    customerId: customer.id,
    type: type ?? null,
    ...pagePlaceholders(page),
  });
  return toPage(
    rows,
    page.limit,
    (r) => ({ createdAt: r.createdAt, id: r.id }),
    (r) => presentRow(r, customer.defaultPaymentMethodId),
  );
};

/** A customer's payment methods, of one type or (`type` null) all, a page at a time. */
const paymentMethodsOf = preparedRead("payment_methods_of_customer", (db, name) =>
  db
    .select()
    .from(paymentMethods)
    .where(
      and(
        eq(paymentMethods.customerId, sql.placeholder("customerId")),
        sql`(${sql.placeholder("type")}::text is null or ${paymentMethods.type} = ${sql.placeholder("type")})`,
        olderThanPlaceholder(paymentMethods.createdAt, paymentMethods.id),
      ),
    )
    .orderBy(desc(paymentMethods.createdAt), desc(paymentMethods.id))
    .limit(sql.placeholder("limit"))
    .prepare(name),
);

export const listCustomerPaymentMethods = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { customerId: string; type?: string | undefined; page: PageInput };
}): Promise<Page<PaymentMethod>> => {
  const customer = await findOwnedCustomer({ ctx, principal, input });
  return listLocal(ctx, customer, input.page, input.type);
};

export const listPlatformPaymentMethods = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string; page: PageInput };
}): Promise<Page<PaymentMethod>> => {
  const customer = await customerOfPlatform({ ctx, input });
  return listLocal(ctx, customer, input.page);
};

/** A customer's payment methods, a page at a time, for a caller that has read the customer. */
export const listPaymentMethodsOf = ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { customer: Pick<CustomerRow, "id" | "defaultPaymentMethodId">; page: PageInput };
}): Promise<Page<PaymentMethod>> => listLocal(ctx, input.customer, input.page);

export const getDefaultPaymentMethod = async (args: {
  ctx: ServiceContext;
  principal: Principal;
  input: { customerId: string };
}): Promise<PaymentMethod> => {
  const customer = await findOwnedCustomer(args);
  const defaultId = customer.defaultPaymentMethodId;
  const [row] = defaultId
    ? await args.ctx.db.select().from(paymentMethods).where(eq(paymentMethods.id, defaultId))
    : [];
  if (!row)
    throw new AppError("NOT_FOUND", `customer '${customer.id}' has no default payment method`);
  return presentRow(row, defaultId);
};

/** A payment method attached to a customer the caller may see. */
const findOwnedPaymentMethod = async (
  ctx: ServiceContext,
  principal: Principal,
  paymentMethodId: string,
) => {
  const [row] = await ctx.db
    .select()
    .from(paymentMethods)
    .where(eq(paymentMethods.id, paymentMethodId));
  if (!row) return undefined;
  const customer = await findOwnedCustomer({
    ctx,
    principal,
    input: { customerId: row.customerId },
  }).catch(() => undefined);
  return customer ? { row, customer } : undefined;
};

export const getPaymentMethod = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { paymentMethodId: string };
}): Promise<PaymentMethod> => {
  const { paymentMethodId } = input;
  const owned = await findOwnedPaymentMethod(ctx, principal, paymentMethodId);
  if (owned) return presentRow(owned.row, owned.customer.defaultPaymentMethodId);
  // The operator may look up any method the processor knows (e.g. one not attached yet).
  if (principal.kind === "operator") {
    return presentProcessor(await ctx.processor.retrievePaymentMethod(paymentMethodId), null);
  }
  throw notFound("payment method", paymentMethodId);
};

const setDefault = async (
  ctx: ServiceContext,
  customerId: string,
  platformId: string | null,
  paymentMethodId: string,
) => {
  const updated = await ctx.processor.updateCustomer(customerId, {
    defaultPaymentMethodId: paymentMethodId,
  });
  return storeCustomer({
    tx: ctx.db,
    input: { customer: updated, now: ctx.clock.now(), platformId },
  });
};

export const attachPaymentMethod = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: {
    paymentMethodId: string;
    customerId: string;
    setAsDefault?: boolean | undefined;
    /** The caller's scoped Idempotency-Key, handed on to the processor. */
    idempotencyKey?: string | undefined;
  };
}): Promise<PaymentMethod> => {
  const { paymentMethodId, idempotencyKey } = input;
  const customer = await findOwnedCustomer({ ctx, principal, input });
  const attached = await ctx.processor.attachPaymentMethod(
    paymentMethodId,
    customer.id,
    idempotencyKey ? { idempotencyKey: `pm-attach-${idempotencyKey}` } : undefined,
  );
  await storePaymentMethod({
    tx: ctx.db,
    input: { paymentMethod: attached, now: ctx.clock.now() },
  });
  let defaultId = customer.defaultPaymentMethodId;
  if (input.setAsDefault) {
    defaultId = (await setDefault(ctx, customer.id, customer.platformId, attached.id))
      .defaultPaymentMethodId;
    await retryOpenInvoices({ ctx, customerId: customer.id });
  }
  return presentProcessor(attached, defaultId);
};

export const detachPaymentMethod = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { paymentMethodId: string };
}): Promise<PaymentMethod> => {
  const { paymentMethodId } = input;
  const owned = await findOwnedPaymentMethod(ctx, principal, paymentMethodId);
  if (!owned) throw notFound("payment method", paymentMethodId);
  const detached = await ctx.processor.detachPaymentMethod(paymentMethodId);
  const now = ctx.clock.now();
  await ctx.db.transaction(async (tx) => {
    await forgetPaymentMethod(tx, owned.row.customerId, paymentMethodId, now);
    const [cleared] = await tx
      .update(customers)
      .set({ defaultPaymentMethodId: null, updatedAt: now })
      .where(
        and(
          eq(customers.id, owned.row.customerId),
          eq(customers.defaultPaymentMethodId, paymentMethodId),
        ),
      )
      .returning();
    if (cleared) {
      await recordEvent({
        tx,
        input: {
          now,
          type: "customer.default_payment_method_changed",
          platformId: cleared.platformId,
          object: presentCustomer(cleared),
          previousAttributes: { defaultPaymentMethodId: paymentMethodId },
        },
      });
    }
  });
  return presentProcessor({ ...detached, customerId: null }, null);
};

export const setDefaultPaymentMethod = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { paymentMethodId: string; customerId: string };
}): Promise<PaymentMethod> => {
  const { paymentMethodId } = input;
  const customer = await findOwnedCustomer({ ctx, principal, input });
  const [row] = await ctx.db
    .select()
    .from(paymentMethods)
    .where(and(eq(paymentMethods.id, paymentMethodId), eq(paymentMethods.customerId, customer.id)));
  if (!row) {
    throw new AppError(
      "NOT_FOUND",
      `payment method '${paymentMethodId}' is not attached to customer '${customer.id}'`,
    );
  }
  const updated = await setDefault(ctx, customer.id, customer.platformId, paymentMethodId);
  await retryOpenInvoices({ ctx, customerId: customer.id });
  return presentRow(row, updated.defaultPaymentMethodId);
};
