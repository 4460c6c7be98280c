import type { Meter } from "../../billing/plan-catalog.ts";
import { invalid } from "../../errors.ts";
import type { ServiceContext } from "../context.ts";
import type { Principal } from "../principal.ts";
import { platformSubscriptions } from "./platform-context.ts";
import { raiseUsageAlerts } from "./usage-alerts.ts";
import { msPerDay, type UsageSubscription, usageBucketFinder } from "./usage-period.ts";
import type { UsageEventRow } from "./usage-store.ts";

/** One event as the API receives it (already shape-checked by the route's schema). */
export interface UsageEventInput {
  id: string;
  platformId: string;
  tenantId?: string | null | undefined;
  meter: string;
  value?: number | undefined;
  /** ISO-8601 with an offset, or unix seconds. */
  timestamp?: string | number | undefined;
  properties?: Record<string, unknown> | undefined;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
}

/** How far back and ahead an event's timestamp may be, relative to the clock. */
export const maxEventAgeMs = 35 * msPerDay;
export const maxEventLeadMs = 5 * 60_000;
/** Longest distinct value kept for a unique_count meter. */
export const maxUniqueValueLength = 255;
/**
 * Bounds of an event's value: finite, not negative, at most 10^12 and at most 6 decimal places
 * (a millionth of a unit, the resolution billing reads). Sums are exact PostgreSQL `numeric`, so
 * no number of accepted events overflows or loses precision.
 */
export const maxEventValue = 1e12;
export const maxValueDecimals = 6;

/** Why `value` is out of bounds, or undefined when it is fine. */
const valueProblem = (value: number): string | undefined => {
  if (!Number.isFinite(value) || value < 0) return "must be a finite number, not negative";
  if (value > maxEventValue) return `must be at most ${maxEventValue.toExponential()}`;
  if (Number.isInteger(value)) return undefined;
  // The shortest text that reads back as `value`: its decimals are what the caller sent.
  const text = String(value);
  const point = text.indexOf(".");
  const decimals = text.includes("e-") ? Number.POSITIVE_INFINITY : text.length - point - 1;
  return decimals > maxValueDecimals ? `at most ${maxValueDecimals} decimal places` : undefined;
};

interface Issue {
  index: number;
  path: Array<string | number>;
  message: string;
}

/** An event's time in epoch milliseconds (whole, as a `Date` holds it), or undefined if invalid. */
const timestampMsOf = (input: string | number | undefined, nowMs: number): number | undefined => {
  if (input === undefined) return nowMs;
  const ms = typeof input === "number" ? Math.trunc(input * 1000) : Date.parse(input);
  return Number.isNaN(ms) ? undefined : ms;
};

const uniqueValueOf = (meter: Meter, properties: Record<string, unknown> | undefined) => {
  const raw = meter.property === undefined ? undefined : properties?.[meter.property];
  if (typeof raw === "number" && Number.isFinite(raw)) return String(raw);
  if (typeof raw === "string" && raw.length > 0 && raw.length <= maxUniqueValueLength) return raw;
  return undefined;
};

/**
 * Ingests a batch (DESIGN §6): the whole batch is validated first (any bad event: 400 naming
 * every bad index, nothing stored); then the events are deduplicated by (platform, id), stored
 * raw and rolled up in one transaction (possibly shared with concurrent requests, see
 * usage-store.ts). Alerts are raised right after the commit.
 */
export const ingestUsageEvents = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: {
    events: UsageEventInput[];
    principal: Principal;
    /**
     * Called with the number of events per platform once the batch is valid, before anything
     * is stored; throws to refuse the batch (the rate limit's event budget, see http/rate-limit.ts).
     */
    admit?: ((eventsByPlatform: Map<string, number>) => Promise<void>) | undefined;
  };
}): Promise<IngestResult> => {
  const now = ctx.clock.now();
  const nowMs = now.getTime();
  const { events, principal } = input;
  const issues: Issue[] = [];
  const bad = (index: number, field: string | string[], message: string) => {
    issues.push({ index, path: ["events", index, ...[field].flat()], message });
  };

  // Platforms: a platform key writes its own only; the operator and usage:write service keys
  // write any platform that exists. One query answers existence and the live subscription.
  const platformIds = [...new Set(events.map((e) => e.platformId))];
  const contexts = await platformSubscriptions({ ctx, platformIds });

  const rows: UsageEventRow[] = [];
  const seen = new Set<string>();
  const bucketFinders = new Map<string, (atMs: number) => number>();
  events.forEach((event, index) => {
    // A key issued under a platform writes that platform's usage only; operator-level keys
    // (the operator's, and ingestion keys from POST /operator/api-keys) write any platform.
    const ownPlatform = principal.kind === "operator" ? null : principal.platformId;
    if (ownPlatform !== null && event.platformId !== ownPlatform) {
      bad(index, "platformId", `this key may only write usage of platform '${ownPlatform}'`);
    } else if (!contexts.has(event.platformId)) {
      bad(index, "platformId", `unknown platform '${event.platformId}'`);
    }
    if (event.value !== undefined) {
      const problem = valueProblem(event.value);
      if (problem) bad(index, "value", problem);
    }
    const meter = ctx.catalog.meter(event.meter);
    if (!meter) {
      bad(index, "meter", `unknown meter '${event.meter}'`);
      return;
    }
    const at = timestampMsOf(event.timestamp, nowMs);
    if (at === undefined) {
      bad(index, "timestamp", "not a valid timestamp");
    } else if (at < nowMs - maxEventAgeMs) {
      bad(index, "timestamp", "older than 35 days");
    } else if (at > nowMs + maxEventLeadMs) {
      bad(index, "timestamp", "more than 5 minutes in the future");
    }
    let unique: string | undefined;
    if (meter.aggregation === "unique_count") {
      unique = uniqueValueOf(meter, event.properties);
      if (unique === undefined) {
        bad(
          index,
          ["properties", meter.property ?? ""],
          `meter '${meter.key}' counts distinct properties.${meter.property}: a string of 1 to ${maxUniqueValueLength} characters or a number`,
        );
      }
    }
    if (issues.length > 0 || at === undefined) return;
    // A repeat inside the batch is a duplicate like any other: the first one counts.
    const key = `${event.platformId}\u0000${event.id}`;
    if (seen.has(key)) return;
    seen.add(key);
    let bucketOf = bucketFinders.get(event.platformId);
    if (!bucketOf) {
      bucketOf = usageBucketFinder(contexts.get(event.platformId) ?? null);
      bucketFinders.set(event.platformId, bucketOf);
    }
    rows.push({
      platformId: event.platformId,
      eventId: event.id,
      tenantId: event.tenantId ?? null,
      meter: meter.key,
      value: event.value ?? 1,
      occurredAtMs: at,
      bucketMs: bucketOf(at),
      properties: event.properties,
      uniqueValue: unique,
    });
  });
  if (issues.length > 0) {
    const indexes = [...new Set(issues.map((i) => i.index))];
    throw invalid(
      `${indexes.length} of ${events.length} events are invalid (indexes ${indexes.slice(0, 20).join(", ")}${indexes.length > 20 ? ", …" : ""}); nothing was stored`,
      issues.map((issue) => ({ ...issue, in: "body" })),
    );
  }

  if (input.admit) await input.admit(eventsPerPlatform(events));
  const accepted = await ctx.usage.insertEvents(rows, now);

  if (accepted > 0) {
    await raiseAlertsAfterIngest({ ctx, rows, contexts });
  }
  return { accepted, duplicates: events.length - accepted };
};

/** How many events of the batch name each platform (duplicates included: each costs a token). */
const eventsPerPlatform = (events: UsageEventInput[]) => {
  const counts = new Map<string, number>();
  for (const event of events) counts.set(event.platformId, (counts.get(event.platformId) ?? 0) + 1);
  return counts;
};

const raiseAlertsAfterIngest = async ({
  ctx,
  rows,
  contexts,
}: {
  ctx: ServiceContext;
  rows: UsageEventRow[];
  contexts: Map<string, UsageSubscription | null>;
}) => {
  const metersByPlatform = new Map<string, Set<string>>();
  for (const row of rows) {
    if (!contexts.get(row.platformId)) continue;
    let meters = metersByPlatform.get(row.platformId);
    if (!meters) {
      meters = new Set();
      metersByPlatform.set(row.platformId, meters);
    }
    meters.add(row.meter);
  }
  for (const [platformId, meters] of metersByPlatform) {
    const subscription = contexts.get(platformId);
    if (subscription) await raiseUsageAlerts({ ctx, platformId, subscription, meters });
  }
};
