import type { Database } from "../../db/client.ts";
import { isUniqueViolation } from "../../db/errors.ts";
import { ingestBatch, ingestNewBatch, lockUniqueValues, updateUniqueGaps } from "./ingest-sql.ts";
import { runSql } from "./sql-runner.ts";

/**
 * A row of the batch parameter of `ingestBatch` (see ingest-sql.ts for the field names). Times
 * are epoch milliseconds; absent properties and distinct values are left out of the JSON.
 */
export interface BatchRow {
  p: string;
  i: string;
  t: string;
  m: string;
  v: number;
  ts: number;
  b: number;
  pr: Record<string, unknown> | undefined;
  u: string | undefined;
  /** Which request of a merged write the row belongs to. */
  r?: number;
}

interface Pending {
  rows: BatchRow[];
  receivedAt: Date;
  resolve(accepted: number): void;
  reject(error: unknown): void;
}

/** Events one merged write may carry. */
const maxEventsPerWrite = 5_000;
/** Writes that probe for stored keys after a write met one (see `ingestNewBatch`). */
const probingWrites = 100;
/** Attempts of one write while other writers keep committing some of its keys first. */
const maxKeyConflicts = 10;

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
  readonly #known = new KnownOccurrences();
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

  /** Stores one request's rows; answers how many were new. */
  submit(rows: BatchRow[], receivedAt: Date): Promise<number> {
    if (rows.length === 0) return Promise.resolve(0);
    return new Promise((resolve, reject) => {
      this.#pending.push({ rows, receivedAt, resolve, reject });
      this.#pump();
    });
  }

  #pump() {
    while (this.#writing < this.#maxWrites && this.#pending.length > 0) {
      let events = 0;
      let take = 0;
      while (take < this.#pending.length) {
        const next = this.#pending[take] as Pending;
        if (take > 0 && events + next.rows.length > maxEventsPerWrite) break;
        events += next.rows.length;
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
   * Stores requests, taking every event as new (`ingestNewBatch`) unless a recent write met a
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
        const { accepted, duplicates } = await storeRequests(
          this.#database,
          this.#known,
          requests,
          probe,
        );
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
}

/** Entries `KnownOccurrences` keeps (the oldest go first): ~10 MB at most. */
const maxKnownOccurrences = 100_000;

/**
 * Distinct-value occurrences (platform, tenant, meter, value, bucket) known to be stored and
 * committed. A unique_count event whose occurrence is known needs no occurrence insert and no gap
 * update, so a write whose events are all like that is one statement, committed on its own,
 * instead of three statements in a transaction that holds the hot rollup rows over two more
 * round trips (for a busy server, ~8 % of ingestion throughput). Occurrences are never deleted,
 * so an entry stays true; forgetting one only costs the slower path.
 */
class KnownOccurrences {
  readonly #keys = new Set<string>();

  static keyOf(row: BatchRow): string {
    return `${row.p}\u0000${row.t}\u0000${row.m}\u0000${row.u}\u0000${row.b}`;
  }

  has(key: string): boolean {
    return this.#keys.has(key);
  }

  /** Records occurrences of a write that committed (each is stored, by it or before it). */
  addAll(keys: readonly string[]) {
    for (const key of keys) {
      if (this.#keys.size >= maxKnownOccurrences) {
        const oldest = this.#keys.values().next();
        if (!oldest.done) this.#keys.delete(oldest.value);
      }
      this.#keys.add(key);
    }
  }
}

const queues = new WeakMap<Database, IngestQueue>();

/** The ingestion queue of a database (one per process and database). */
export const ingestQueueOf = (database: Database): IngestQueue => {
  let queue = queues.get(database);
  if (!queue) {
    queue = new IngestQueue(database);
    queues.set(database, queue);
  }
  return queue;
};

/**
 * Stores the rows of several requests in one transaction and answers how many of each request's
 * events were new, and whether any was stored before. Earlier requests win a duplicate id, as if
 * they had been written one by one. One statement (its own transaction) unless some unique_count
 * event may bring a new occurrence of its value; three in a transaction then. Without `probe`,
 * every event must be new (see `ingestNewBatch`).
 */
const storeRequests = async (
  database: Database,
  known: KnownOccurrences,
  requests: ReadonlyArray<Pick<Pending, "rows" | "receivedAt">>,
  probe: boolean,
): Promise<{ accepted: number[]; duplicates: boolean }> => {
  const rows: BatchRow[] = [];
  const seen = new Set<string>();
  const occurrences: string[] = [];
  requests.forEach((request, r) => {
    for (const row of request.rows) {
      const key = `${row.p}\u0000${row.i}`;
      if (seen.has(key)) continue;
      seen.add(key);
      row.r = r;
      rows.push(row);
      if (row.u !== undefined) {
        const occurrence = KnownOccurrences.keyOf(row);
        // Stored already: nothing for the statement to insert or count.
        if (known.has(occurrence)) row.u = undefined;
        else occurrences.push(occurrence);
      }
    }
  });
  const accepted = await runSql(database, { transaction: occurrences.length > 0 }, async (sql) => {
    const [result] = await sql.query<{
      accepted: Record<string, number> | null;
      occurrences: unknown[] | null;
    }>(probe ? ingestBatch : ingestNewBatch, [
      JSON.stringify(rows),
      JSON.stringify(requests.map((request) => request.receivedAt.toISOString())),
    ]);
    if (!result) throw new Error("the ingest statement returned no row");
    const occurrences = result.occurrences ?? [];
    if (occurrences.length > 0) {
      const param = JSON.stringify(occurrences);
      await sql.query(lockUniqueValues, [param]);
      await sql.query(updateUniqueGaps, [param]);
    }
    return requests.map((_, r) => Number(result.accepted?.[r] ?? 0));
  });
  const duplicates = accepted.reduce((sum, n) => sum + n, 0) < rows.length;
  // With every event new, each occurrence is stored now (by this write or an earlier one). A
  // duplicate's occurrence is not: its event was stored with the payload it came with first.
  if (!duplicates) known.addAll(occurrences);
  return { accepted, duplicates };
};
