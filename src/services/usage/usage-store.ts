import type { Database, Tx } from "../../db/client.ts";
import { isUniqueViolation } from "../../db/errors.ts";
import { runSql } from "./sql-runner.ts";
import type { UsagePeriod, UsageSubscription } from "./usage-period.ts";
import {
  type AggregateRow,
  type CurrentUsageRow,
  type IngestResultRow,
  type IngestWriteEvent,
  ingestAllNew,
  ingestParams,
  ingestProbingKeys,
  lockUniqueValues,
  periodsAggregates,
  platformCurrentUsage,
  platformRangeAggregates,
  platformSubscriptions,
  type SubscriptionColumns,
  tenantCurrentUsage,
  tenantRangeAggregates,
  type UsageStatement,
  updateUniqueGaps,
} from "./usage-sql.ts";
import type { MeterAggregates } from "./usage-values.ts";

/**
 * The usage store: the one boundary between usage metering and its tables. It runs the
 * statements of usage-sql.ts below drizzle (named prepared statements, a write's statements on
 * one pooled connection) and owns what a process remembers about usage: the ingest queue and
 * what it knows is stored. The composition builds one per database (`createDeps` in app.ts);
 * two stores share nothing.
 */
export interface UsageStore {
  /**
   * Stores one request's events, deduplicated by (platform, event id) against everything stored
   * before and within the batch (the first one counts); answers how many were new. The events
   * are not modified.
   */
  insertEvents(events: readonly UsageEventRow[], receivedAt: Date): Promise<number>;
  /** The platforms that exist among `platformIds`, each with its live subscription (or null). */
  platformSubscriptions(
    platformIds: readonly string[],
  ): Promise<Map<string, UsageSubscription | null>>;
  /** Aggregates per meter for each range (in the order given), of a platform or one tenant. */
  rangeAggregates(input: {
    platformId: string;
    tenantId?: string | undefined;
    ranges: readonly UsagePeriod[];
  }): Promise<Array<Map<string, MeterAggregates>>>;
  /** Aggregates per meter of several platforms' periods, in one statement (in `tx` if given). */
  periodsAggregates(input: {
    periods: ReadonlyArray<{ platformId: string; periodStart: Date; periodEnd: Date }>;
    tx?: Tx | undefined;
  }): Promise<Array<Map<string, MeterAggregates>>>;
  /**
   * The platform's live subscription and, when the database can tell it (no subscription, or its
   * current period contains `now`), the current period with its aggregates; undefined when the
   * platform does not exist.
   */
  currentUsage(input: { platformId: string; tenantId?: string | undefined; now: Date }): Promise<
    | {
        subscription: UsageSubscription | null;
        current: { period: UsagePeriod; aggregates: Map<string, MeterAggregates> } | null;
      }
    | undefined
  >;
  /**
   * Meters whose every alert threshold is already raised in a period, keyed by platform, period
   * start and meter (see usage-alerts.ts): a shortcut only, raising is idempotent.
   */
  readonly fullyRaisedAlerts: RecentKeys;
}

/** One usage event, validated and placed in its rollup bucket, as the store takes it. */
export interface UsageEventRow {
  platformId: string;
  eventId: string;
  /** null: usage of the platform itself. */
  tenantId: string | null;
  meter: string;
  value: number;
  occurredAtMs: number;
  /** Start of the event's rollup bucket (see `usageBucketFinder`), epoch milliseconds. */
  bucketMs: number;
  properties: Record<string, unknown> | undefined;
  /** The distinct value a unique_count meter counts; undefined for other meters. */
  uniqueValue: string | undefined;
}

export const createUsageStore = (database: Database): UsageStore => {
  const queue = new IngestQueue(database);
  const query = async <P extends Record<string, unknown>, R extends Record<string, unknown>>(
    statement: UsageStatement<P>,
    params: P,
    tx?: Tx,
  ): Promise<R[]> => {
    if (tx)
      return ((await tx.execute(statement.toDrizzle(params))) as unknown as { rows: R[] }).rows;
    return runSql(database, { transaction: false }, (runner) =>
      runner.query<R>(statement, statement.values(params)),
    );
  };

  return {
    insertEvents: (events, receivedAt) => queue.submit(events, receivedAt),

    platformSubscriptions: async (platformIds) => {
      const rows = await query<{ platformIds: string[] }, SubscriptionColumns>(
        platformSubscriptions,
        { platformIds: [...platformIds] },
      );
      return new Map(rows.map((row) => [row.platform_id, subscriptionOf(row)]));
    },

    rangeAggregates: async ({ platformId, tenantId, ranges }) => {
      if (ranges.length === 0) return [];
      const rangesParam = JSON.stringify(
        ranges.map((r, i) => ({ i, s: r.start.toISOString(), e: r.end.toISOString() })),
      );
      const rows =
        tenantId === undefined
          ? await query<{ ranges: string; platformId: string }, AggregateRow>(
              platformRangeAggregates,
              { ranges: rangesParam, platformId },
            )
          : await query<{ ranges: string; platformId: string; tenantId: string }, AggregateRow>(
              tenantRangeAggregates,
              { ranges: rangesParam, platformId, tenantId },
            );
      return aggregatesByRange(rows, ranges.length);
    },

    periodsAggregates: async ({ periods, tx }) => {
      if (periods.length === 0) return [];
      const periodsParam = JSON.stringify(
        periods.map((p, i) => ({
          i,
          p: p.platformId,
          s: p.periodStart.toISOString(),
          e: p.periodEnd.toISOString(),
        })),
      );
      const rows = await query<{ periods: string }, AggregateRow>(
        periodsAggregates,
        { periods: periodsParam },
        tx,
      );
      return aggregatesByRange(rows, periods.length);
    },

    currentUsage: async ({ platformId, tenantId, now }) => {
      const [row] =
        tenantId === undefined
          ? await query<{ now: string; platformId: string }, CurrentUsageRow>(
              platformCurrentUsage,
              { now: now.toISOString(), platformId },
            )
          : await query<{ now: string; platformId: string; tenantId: string }, CurrentUsageRow>(
              tenantCurrentUsage,
              { now: now.toISOString(), platformId, tenantId },
            );
      if (!row) return undefined;
      const current =
        row.period_start_ms !== null && row.period_end_ms !== null
          ? {
              period: { start: new Date(row.period_start_ms), end: new Date(row.period_end_ms) },
              aggregates: aggregatesByRange(row.aggregates ?? [], 1)[0] ?? new Map(),
            }
          : null;
      return { subscription: subscriptionOf(row), current };
    },

    fullyRaisedAlerts: new RecentKeys(50_000),
  };
};

const subscriptionOf = (row: SubscriptionColumns): UsageSubscription | null =>
  row.tier === null || row.interval === null
    ? null
    : {
        tier: row.tier,
        interval: row.interval,
        billingAnchor: new Date(Number(row.anchor_ms)),
        currentPeriodStart: new Date(Number(row.start_ms)),
        currentPeriodEnd: new Date(Number(row.end_ms)),
        createdAt: new Date(Number(row.created_ms)),
        usagePeriods: row.usage_periods ?? [],
      };

/** Rows of `aggregates` into a map per meter, for each of `count` ranges. */
const aggregatesByRange = (rows: readonly AggregateRow[], count: number) => {
  const result = Array.from({ length: count }, () => new Map<string, MeterAggregates>());
  for (const row of rows) {
    result[Number(row.i)]?.set(row.meter, {
      total: row.total ?? "0",
      events: row.events ?? 0,
      peak: row.peak,
      latest: row.latest,
      uniques: row.uniques ?? 0,
    });
  }
  return result;
};

/**
 * A bounded set of keys that forgets the oldest first: for facts that stay true once learned,
 * where forgetting one only costs a slower path.
 */
export class RecentKeys {
  readonly #keys = new Set<string>();

  constructor(readonly capacity: number) {}

  has(key: string): boolean {
    return this.#keys.has(key);
  }

  add(key: string) {
    if (this.#keys.has(key)) return;
    if (this.#keys.size >= this.capacity) {
      const oldest = this.#keys.values().next();
      if (!oldest.done) this.#keys.delete(oldest.value);
    }
    this.#keys.add(key);
  }
}

// ---------------------------------------------------------------------------------------------
// Ingestion: group commit

interface Pending {
  events: readonly UsageEventRow[];
  receivedAt: Date;
  resolve(accepted: number): void;
  reject(error: unknown): void;
}

/** Events one merged write may carry. */
const maxEventsPerWrite = 5_000;
/** Writes that probe for stored keys after a write met one (see `ingestAllNew`). */
const probingWrites = 100;
/** Attempts of one write while other writers keep committing some of its keys first. */
const maxKeyConflicts = 10;
/**
 * Distinct-value occurrences a store remembers as stored (the oldest go first): ~10 MB at most.
 * Why it remembers them: bench/README.md, Ingestion.
 */
const maxKnownOccurrences = 100_000;

/**
 * Group commit for ingestion. Requests that arrive while writes are running are merged into the
 * next write: one transaction, the same set-based statements, each request told how many of its
 * own events were new. An idle service writes a request at once; a busy one pays the statement,
 * rollup upserts and commit once per several requests, and updates each hot rollup row once
 * per write instead of once per request. A merged write that fails is retried one request at a
 * time, so a request only ever fails for its own reasons.
 */
class IngestQueue {
  readonly #database: Database;
  /**
   * Occurrences (platform, tenant, meter, value, bucket) known to be stored and committed. A
   * unique_count event whose occurrence is known needs no occurrence insert and no gap update,
   * so a write whose events are all like that is one statement, committed on its own, instead of
   * three in a transaction. Occurrences are never deleted, so an entry stays true.
   */
  readonly #knownOccurrences = new RecentKeys(maxKnownOccurrences);
  readonly #maxWrites: number;
  #pending: Pending[] = [];
  #writing = 0;
  /** How many of the next writes look for stored keys first. */
  #probing = 0;

  constructor(database: Database) {
    this.#database = database;
    // PGlite runs one statement at a time; PostgreSQL gets two writers, one per core of the
    // 2-core target machine, so neither waits for the other's commit.
    this.#maxWrites = database.pool ? 2 : 1;
  }

  /** Stores one request's events; answers how many were new. */
  submit(events: readonly UsageEventRow[], receivedAt: Date): Promise<number> {
    if (events.length === 0) return Promise.resolve(0);
    return new Promise((resolve, reject) => {
      this.#pending.push({ events, receivedAt, resolve, reject });
      this.#pump();
    });
  }

  #pump() {
    while (this.#writing < this.#maxWrites && this.#pending.length > 0) {
      let events = 0;
      let take = 0;
      while (take < this.#pending.length) {
        const next = this.#pending[take] as Pending;
        if (take > 0 && events + next.events.length > maxEventsPerWrite) break;
        events += next.events.length;
        take += 1;
      }
      const group = this.#pending.splice(0, take);
      this.#writing += 1;
      void this.#write(group).finally(() => {
        this.#writing -= 1;
        this.#pump();
      });
    }
  }

  async #write(group: Pending[]) {
    try {
      const accepted = await this.#store(group);
      group.forEach((p, i) => {
        p.resolve(accepted[i] ?? 0);
      });
    } catch (error) {
      if (group.length === 1) {
        group[0]?.reject(error);
        return;
      }
      for (const p of group) {
        try {
          p.resolve((await this.#store([p]))[0] ?? 0);
        } catch (own) {
          p.reject(own);
        }
      }
    }
  }

  /**
   * Stores requests, taking every event as new (`ingestAllNew`) unless a recent write met a
   * stored key. A key stored before (a duplicate) or meanwhile (by another writer) fails that
   * form; the write then runs again with the probing form, as do the next `probingWrites` writes.
   * A probing write can fail the same way, when another writer commits one of its keys while it
   * runs; each attempt is another write finished, and the next attempt counts that key as a
   * duplicate.
   */
  async #store(requests: Pending[]): Promise<number[]> {
    let probe = this.#probing > 0;
    for (let attempt = 1; ; attempt++) {
      try {
        const { accepted, duplicates } = await this.#storeRequests(requests, probe);
        if (duplicates) this.#probing = probingWrites;
        else if (probe) this.#probing = Math.max(0, this.#probing - 1);
        return accepted;
      } catch (error) {
        if (!isUniqueViolation(error, "usage_event_keys_pk") || attempt >= maxKeyConflicts) {
          throw error;
        }
        probe = true;
        this.#probing = probingWrites;
      }
    }
  }

  /**
   * Stores the events of several requests in one transaction and answers how many of each
   * request's events were new, and whether any was stored before. Earlier requests win a
   * duplicate id, as if they had been written one by one. One statement (its own transaction)
   * unless some unique_count event may bring a new occurrence of its value; three in a
   * transaction then. Without `probe`, every event must be new (see `ingestAllNew`).
   */
  async #storeRequests(
    requests: ReadonlyArray<Pick<Pending, "events" | "receivedAt">>,
    probe: boolean,
  ): Promise<{ accepted: number[]; duplicates: boolean }> {
    const batch: IngestWriteEvent[] = [];
    const seen = new Set<string>();
    const newOccurrences: string[] = [];
    requests.forEach((request, r) => {
      for (const event of request.events) {
        const key = `${event.platformId}\u0000${event.eventId}`;
        if (seen.has(key)) continue;
        seen.add(key);
        let unique = event.uniqueValue;
        if (unique !== undefined) {
          const occurrence = occurrenceKey(event);
          // Stored already: nothing for the statement to insert or count.
          if (this.#knownOccurrences.has(occurrence)) unique = undefined;
          else newOccurrences.push(occurrence);
        }
        batch.push({ event, request: r, uniqueValue: unique });
      }
    });
    const params = ingestParams(
      batch,
      requests.map((request) => request.receivedAt),
    );
    const ingest = probe ? ingestProbingKeys : ingestAllNew;
    const transaction = newOccurrences.length > 0;
    const accepted = await runSql(this.#database, { transaction }, async (sql) => {
      const [result] = await sql.query<IngestResultRow>(ingest, ingest.values(params));
      if (!result) throw new Error("the ingest statement returned no row");
      const inserted = result.occurrences ?? [];
      if (inserted.length > 0) {
        const occurrences = { occurrences: JSON.stringify(inserted) };
        await sql.query(lockUniqueValues, lockUniqueValues.values(occurrences));
        await sql.query(updateUniqueGaps, updateUniqueGaps.values(occurrences));
      }
      return requests.map((_, r) => Number(result.accepted?.[r] ?? 0));
    });
    const duplicates = accepted.reduce((sum, n) => sum + n, 0) < batch.length;
    // With every event new, each occurrence is stored now (by this write or an earlier one). A
    // duplicate's occurrence is not: its event was stored with the payload it came with first.
    if (!duplicates)
      for (const occurrence of newOccurrences) this.#knownOccurrences.add(occurrence);
    return { accepted, duplicates };
  }
}

const occurrenceKey = (event: UsageEventRow) =>
  `${event.platformId}\u0000${event.tenantId ?? ""}\u0000${event.meter}\u0000${event.uniqueValue}\u0000${event.bucketMs}`;
