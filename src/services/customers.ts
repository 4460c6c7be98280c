import { and, eq } from "drizzle-orm";
import type { Tx } from "../db/client.ts";
import { type CustomerRow, customers } from "../db/schema/index.ts";
import { AppError, notFound } from "../errors.ts";
import type { ProcessorCustomer } from "../processor/stripe-processor.ts";
import type { Principal } from "./api-keys.ts";
import type { ServiceContext } from "./context.ts";

export interface Customer {
  id: string;
  platformId: string | null;
  email: string | null;
  name: string | null;
  metadata: Record<string, string>;
  defaultPaymentMethodId: string | null;
  createdAt: string;
}

export const presentCustomer = (row: CustomerRow): Customer => ({
  id: row.id,
  platformId: row.platformId,
  email: row.email,
  name: row.name,
  metadata: row.metadata,
  defaultPaymentMethodId: row.defaultPaymentMethodId,
  createdAt: row.createdAt.toISOString(),
});

/** Writes what the processor says about a customer into the local view. */
export const storeCustomer = async (
  tx: Tx,
  customer: ProcessorCustomer,
  now: Date,
  platformId?: string | null,
): Promise<CustomerRow> => {
  const fields = {
    email: customer.email,
    name: customer.name,
    metadata: customer.metadata,
    defaultPaymentMethodId: customer.defaultPaymentMethodId,
    updatedAt: now,
  };
  const [row] = await tx
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
  return row;
};

/**
 * A customer the caller may see: the operator sees every customer, a platform only its own.
 * Someone else's customer is reported as missing, so ids reveal nothing.
 */
export const findOwnedCustomer = async ({
  ctx,
  principal,
  customerId,
}: {
  ctx: ServiceContext;
  principal: Principal;
  customerId: string;
}): Promise<CustomerRow> => {
  const [row] = await ctx.db.select().from(customers).where(eq(customers.id, customerId));
  if (!row) throw notFound("customer", customerId);
  if (principal.kind !== "operator" && row.platformId !== principal.platformId) {
    throw notFound("customer", customerId);
  }
  return row;
};

export const customerOfPlatform = async ({
  ctx,
  platformId,
}: {
  ctx: ServiceContext;
  platformId: string;
}): Promise<CustomerRow> => {
  const [row] = await ctx.db
    .select()
    .from(customers)
    .where(and(eq(customers.platformId, platformId)));
  if (!row) throw notFound("platform", platformId);
  return row;
};

/** A customer that belongs to no platform, created directly by the operator. */
export const createCustomer = async ({
  ctx,
  principal,
  input,
  idempotencyKey,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: {
    email: string;
    name?: string | undefined;
    metadata?: Record<string, string> | undefined;
  };
  idempotencyKey?: string | undefined;
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
    idempotencyKey ? { idempotencyKey: `customer-create-${idempotencyKey}` } : undefined,
  );
  return presentCustomer(await storeCustomer(ctx.db, created, ctx.clock.now()));
};

export const getCustomer = async (args: {
  ctx: ServiceContext;
  principal: Principal;
  customerId: string;
}): Promise<Customer> => presentCustomer(await findOwnedCustomer(args));

export const updateCustomer = async ({
  ctx,
  principal,
  customerId,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  customerId: string;
  input: {
    email?: string | undefined;
    name?: string | undefined;
    metadata?: Record<string, string> | undefined;
  };
}): Promise<Customer> => {
  const existing = await findOwnedCustomer({ ctx, principal, customerId });
  const patch = Object.fromEntries(
    Object.entries(input).filter(([, value]) => value !== undefined),
  ) as { email?: string; name?: string; metadata?: Record<string, string> };
  const updated = await ctx.processor.updateCustomer(existing.id, patch);
  return presentCustomer(
    await storeCustomer(ctx.db, updated, ctx.clock.now(), existing.platformId),
  );
};
