import { z } from "zod";

/**
 * The plan and meter catalog. It is data (`default-plans.json`, or `BILLING_PLANS_FILE`), checked
 * once at start by this schema; everything else reads the parsed, indexed form.
 */
export const tiers = ["starter", "growth", "scale"] as const;
export type Tier = (typeof tiers)[number];

export const aggregations = ["sum", "count", "max", "last", "unique_count"] as const;
export type Aggregation = (typeof aggregations)[number];

export const intervals = ["month", "year"] as const;
export type Interval = (typeof intervals)[number];

const minorUnits = z.number().int().nonnegative();
const meterKey = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, "meter keys are snake_case");

const meterSchema = z
  .object({
    key: meterKey,
    aggregation: z.enum(aggregations),
    unit: z.string().min(1),
    /** For `unique_count`: the event property whose distinct values are counted. */
    property: z.string().min(1).optional(),
  })
  .refine((m) => (m.aggregation === "unique_count") === (m.property !== undefined), {
    message: "a unique_count meter names its property, and only such a meter does",
  });

const planSchema = z.object({
  tier: z.enum(tiers),
  name: z.string().min(1),
  currency: z.string().regex(/^[a-z]{3}$/, "lowercase ISO 4217 code"),
  trialDays: z.number().int().min(0).max(365).default(0),
  prices: z
    .array(
      z.object({
        priceId: z.string().regex(/^price_[A-Za-z0-9_]+$/),
        interval: z.enum(intervals),
        amount: minorUnits,
      }),
    )
    .min(1),
  meters: z.record(
    meterKey,
    z.object({
      included: z.number().nonnegative(),
      /** Overage price: `amount` minor units for every started block of `per` units. */
      overage: z.object({ amount: minorUnits, per: z.number().int().positive() }).nullable(),
    }),
  ),
});

const catalogSchema = z.object({
  meters: z.array(meterSchema).min(1),
  plans: z.array(planSchema).min(1),
});

export type Meter = z.infer<typeof meterSchema>;
export type Plan = z.infer<typeof planSchema>;
export type Price = Plan["prices"][number] & { tier: Tier; currency: string };

export interface PlanCatalog {
  meters: readonly Meter[];
  plans: readonly Plan[];
  meter(key: string): Meter | undefined;
  plan(tier: string): Plan | undefined;
  price(priceId: string): Price | undefined;
}

export const parsePlanCatalog = (raw: unknown): PlanCatalog => {
  const parsed = catalogSchema.parse(raw);
  const meters = new Map(parsed.meters.map((m) => [m.key, m]));
  const plans = new Map<string, Plan>();
  const prices = new Map<string, Price>();
  if (meters.size !== parsed.meters.length) throw new Error("meter keys must be unique");
  for (const plan of parsed.plans) {
    if (plans.has(plan.tier)) throw new Error(`tier '${plan.tier}' is defined twice`);
    plans.set(plan.tier, plan);
    for (const price of plan.prices) {
      if (prices.has(price.priceId)) throw new Error(`price '${price.priceId}' is defined twice`);
      prices.set(price.priceId, { ...price, tier: plan.tier, currency: plan.currency });
    }
    for (const key of Object.keys(plan.meters)) {
      if (!meters.has(key)) throw new Error(`plan '${plan.tier}' prices unknown meter '${key}'`);
    }
  }
  return {
    meters: parsed.meters,
    plans: parsed.plans,
    meter: (key) => meters.get(key),
    plan: (tier) => plans.get(tier),
    price: (priceId) => prices.get(priceId),
  };
};

/** The public shape of a plan, as `GET /plans` returns it (DESIGN §6). */
export const describePlan = (catalog: PlanCatalog, plan: Plan) => ({
  tier: plan.tier,
  name: plan.name,
  currency: plan.currency,
  trialDays: plan.trialDays,
  prices: plan.prices.map((p) => ({ priceId: p.priceId, interval: p.interval, amount: p.amount })),
  meters: catalog.meters.map((meter) => {
    const terms = plan.meters[meter.key];
    return {
      meter: meter.key,
      unit: meter.unit,
      aggregation: meter.aggregation,
      included: terms?.included ?? 0,
      overage: terms?.overage ?? null,
    };
  }),
});
