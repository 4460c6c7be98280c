import { eq } from "drizzle-orm";
import type { ManualClock } from "../clock.ts";
import type { Db } from "../db/client.ts";
import { testClock } from "../db/schema/index.ts";
import { invalid } from "../errors.ts";

/** Most steps one advance may take; a year of daily dunning for many customers fits easily. */
const MAX_STEPS = 100_000;

/**
 * The work that falls due as time moves (renewals, retries, trial ends, usage invoices): the
 * worker's runner, handed in by the composition root so this service needs nothing from
 * `src/worker/`.
 */
export interface DueWork {
  /** Runs everything due at the clock's current time. */
  run(): Promise<unknown>;
  /** The next instant at which something falls due, if any. */
  nextDueAt(): Promise<Date | undefined>;
}

/** The operator test clock (BILLING_TEST_CLOCK=1): the clock billing runs by, moved on request. */
export interface TestClock {
  /** The clock the operator moves (the same object as the service context's `clock`). */
  readonly clock: ManualClock;
  now(): Date;
  /**
   * Moves the clock to `to`, stopping at every instant where work falls due on the way and
   * running it there, so a year of renewals and retries happens in order, each at its own time.
   */
  advance(to: Date): Promise<Date>;
}

/**
 * The operator test clock (DESIGN §8): it starts at the real time of the first start-up, then
 * stands still until moved, and is kept in the database so restarts continue from it.
 */
export const loadTestClock = async (db: Db, clock: ManualClock): Promise<void> => {
  const [row] = await db
    .insert(testClock)
    .values({ id: 1, now: clock.now() })
    .onConflictDoUpdate({ target: testClock.id, set: { id: 1 } })
    .returning();
  if (row && row.now > clock.now()) clock.set(row.now);
};

const persist = (db: Db, clock: ManualClock) =>
  db.update(testClock).set({ now: clock.now() }).where(eq(testClock.id, 1));

export const createTestClock = ({
  db,
  clock,
  dueWork,
}: {
  db: Db;
  clock: ManualClock;
  dueWork: DueWork;
}): TestClock => ({
  clock,
  now: () => clock.now(),
  advance: async (to) => {
    if (to.getTime() < clock.now().getTime()) {
      throw invalid("time never moves backwards", [
        { path: ["advanceTo"], message: `must not be before ${clock.now().toISOString()}` },
      ]);
    }
    await dueWork.run();
    for (let step = 0; step < MAX_STEPS; step++) {
      const next = await dueWork.nextDueAt();
      if (!next || next.getTime() > to.getTime()) break;
      if (next.getTime() > clock.now().getTime()) clock.set(next);
      await persist(db, clock);
      await dueWork.run();
    }
    clock.set(to);
    await persist(db, clock);
    await dueWork.run();
    return clock.now();
  },
});
