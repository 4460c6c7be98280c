import { z } from "@hono/zod-openapi";
import { tiers } from "../billing/plan-catalog.ts";

/**
 * Schemas shared by several operations. Constraints follow the API reference exactly; upper
 * bounds on strings keep absurd input out of the database with a clean 400.
 */
export const Id = z.string().min(1).max(255);
export const TierSchema = z.enum(tiers).openapi({ example: "growth" });
export const PlatformIdSchema = z.string().min(1).max(255).openapi({ example: "plat_acme" });
export const DateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "expected YYYY-MM-DD")
  .openapi({ example: "2026-11-01" });
export const Limit = z.coerce
  .number()
  .int()
  .min(1)
  .max(100)
  .default(25)
  .openapi({ description: "page size, 1 to 100", example: 25 });
export const Cursor = z
  .string()
  .min(1)
  .max(512)
  .optional()
  .openapi({ description: "the nextCursor of the previous page" });
export const Metadata = z
  .record(z.string().min(1).max(40), z.string().max(500))
  .refine((m) => Object.keys(m).length <= 50, "at most 50 keys")
  .openapi("Metadata", { example: { plan: "pilot" } });
export const Email = z.email().max(320).openapi({ example: "billing@acme.example" });

export const IdParam = z.object({ id: Id.openapi({ param: { name: "id", in: "path" } }) });

/** Query of routes that act on "the caller's platform": operators name it, platform keys may not. */
export const ActingPlatformQuery = z.object({
  platformId: PlatformIdSchema.optional().openapi({
    description: "operators only: the platform to act on (or the X-Platform-Id header)",
  }),
});

export const PlatformQuery = z.object({ platformId: PlatformIdSchema });

export const listOf = <T extends z.ZodType>(item: T, name: string) =>
  z
    .object({ data: z.array(item), hasMore: z.boolean(), nextCursor: z.string().nullable() })
    .openapi(name);

const Money = z.number().int().openapi({ description: "integer minor units", example: 9900 });
const Timestamp = z.string().openapi({ format: "date-time", example: "2026-11-25T18:00:00.000Z" });
const Currency = z.string().length(3).openapi({ example: "usd" });

export const PlanSchema = z
  .object({
    tier: TierSchema,
    name: z.string(),
    currency: Currency,
    trialDays: z.number().int(),
    prices: z.array(
      z.object({
        priceId: z.string().openapi({ example: "price_growth_monthly" }),
        interval: z.enum(["month", "year"]),
        amount: Money,
      }),
    ),
    meters: z.array(
      z.object({
        meter: z.string().openapi({ example: "api_requests" }),
        unit: z.string(),
        aggregation: z.enum(["sum", "count", "max", "last", "unique_count"]),
        included: z.number(),
        overage: z
          .object({ amount: Money, per: z.number().int() })
          .nullable()
          .openapi({ description: "amount per started block of `per` units beyond the included" }),
      }),
    ),
  })
  .openapi("Plan");

export const PlatformSchema = z
  .object({
    platformId: z.string(),
    name: z.string(),
    email: z.string(),
    customerId: z.string().nullable(),
    createdAt: Timestamp,
  })
  .openapi("Platform");

export const IntervalSchema = z.enum(["month", "year"]).openapi("Interval");

/** When a plan change takes effect: now, prorated (default), or at the end of the period. */
export const ChangeTimingSchema = z.enum(["now", "period_end"]).openapi({
  description:
    "`now` (default): prorated at once; `period_end`: nothing charged now, the renewal switches the price",
});

export const SubscriptionSchema = z
  .object({
    id: z.string().openapi({ example: "sub_01jx..." }),
    platformId: z.string(),
    customerId: z.string(),
    status: z
      .enum([
        "trialing",
        "active",
        "past_due",
        "unpaid",
        "canceled",
        "incomplete",
        "incomplete_expired",
      ])
      .openapi({
        description:
          "`incomplete`: the first charge failed; `incomplete_expired` (terminal): it was not paid within 23 hours",
      }),
    tier: TierSchema,
    priceId: z.string(),
    interval: z.enum(["month", "year"]),
    quantity: z.number().int(),
    unitAmount: Money,
    currency: Currency,
    currentPeriodStart: Timestamp,
    currentPeriodEnd: Timestamp,
    cancelAtPeriodEnd: z.boolean(),
    canceledAt: Timestamp.nullable(),
    trialEnd: Timestamp.nullable(),
    defaultPaymentMethodId: z.string().nullable().openapi({
      description:
        "the subscription's own card; it follows the customer's default when that changes from it",
    }),
    nextChargePaymentMethodId: z.string().nullable().openapi({
      description:
        "the card the next charge will use: the subscription's, else the customer's default (attached cards only)",
    }),
    pendingChange: z
      .object({
        tier: TierSchema,
        priceId: z.string(),
        interval: IntervalSchema,
        quantity: z.number().int(),
        effectiveAt: Timestamp,
      })
      .nullable()
      .openapi({
        description:
          'a change scheduled for the end of the current period (`at: "period_end"`): the renewal at `effectiveAt` starts the next period on this price',
      }),
    metadata: z.record(z.string(), z.string()),
    createdAt: Timestamp,
  })
  .openapi("Subscription");

export const InvoiceLineSchema = z
  .object({
    id: z.string(),
    type: z.enum(["subscription", "proration", "usage", "credit"]),
    description: z.string(),
    quantity: z.number(),
    unitAmount: Money,
    amount: Money,
    periodStart: Timestamp.nullable(),
    periodEnd: Timestamp.nullable(),
  })
  .openapi("InvoiceLine");

export const InvoiceSchema = z
  .object({
    id: z.string(),
    number: z.string().nullable().openapi({ example: "NNO-000001" }),
    status: z.enum(["draft", "open", "paid", "void", "uncollectible"]),
    platformId: z.string().nullable(),
    customerId: z.string(),
    subscriptionId: z.string().nullable(),
    description: z.string().nullable(),
    periodStart: Timestamp,
    periodEnd: Timestamp,
    lines: z.array(InvoiceLineSchema),
    subtotal: Money,
    creditApplied: Money,
    total: Money,
    amountDue: Money,
    amountPaid: Money,
    currency: Currency,
    attemptCount: z.number().int(),
    nextPaymentAttempt: Timestamp.nullable(),
    createdAt: Timestamp,
    finalizedAt: Timestamp.nullable(),
    paidAt: Timestamp.nullable(),
    amountCredited: Money.openapi({ description: "the sum of the credit notes against it" }),
    hostedInvoiceUrl: z.string().nullable().openapi({
      description:
        "the hosted page (works without an API key; the token in it is the credential); null for drafts",
    }),
  })
  .openapi("Invoice");

export const CustomerSchema = z
  .object({
    id: z.string().openapi({ example: "cus_..." }),
    platformId: z.string().nullable().openapi({ description: "the owning platform, if any" }),
    email: z.string().nullable(),
    name: z.string().nullable(),
    metadata: z.record(z.string(), z.string()),
    defaultPaymentMethodId: z.string().nullable(),
    address: z
      .object({
        line1: z.string(),
        line2: z.string().optional(),
        city: z.string(),
        postalCode: z.string(),
        state: z.string().optional(),
        country: z.string(),
      })
      .nullable()
      .openapi({ description: "billing address printed on documents" }),
    taxId: z.string().nullable().openapi({ description: "tax id printed on documents" }),
    createdAt: Timestamp,
  })
  .openapi("Customer");

export const PaymentMethodSchema = z
  .object({
    id: z.string().openapi({ example: "pm_..." }),
    type: z.string().openapi({ example: "card" }),
    customerId: z.string().nullable(),
    card: z
      .object({
        brand: z.string(),
        last4: z.string(),
        expMonth: z.number().int(),
        expYear: z.number().int(),
      })
      .nullable(),
    isDefault: z.boolean(),
    createdAt: Timestamp,
  })
  .openapi("PaymentMethod");

export const PaymentMethodListSchema = listOf(PaymentMethodSchema, "PaymentMethodList");

export const UsageMeterSnapshotSchema = z.object({
  meter: z.string(),
  unit: z.string(),
  aggregation: z.string(),
  value: z.number(),
  included: z.number(),
  overage: z.number(),
  percentUsed: z.number(),
});
