import { eq } from "drizzle-orm";
import type { ManualClock } from "../clock.ts";
import type { Db } from "../db/client.ts";
import { testClock } from "../db/schema/index.ts";
import { invalid } from "../errors.ts";
import type { ServiceContext } from "../services/context.ts";
import { nextDueAt, runDueWork } from "./due-work.ts";

/** Most steps one advance may take; a year of daily dunning for many customers fits easily. */
const MAX_STEPS = 100_000;

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

/**
 * Moves the clock to `to`, stopping at every instant where work falls due on the way and running
 * the worker there, so a year of renewals and retries happens in order, each at its own time.
 */
export const advanceTestClock = async ({
  ctx,
  clock,
  to,
}: {
  ctx: ServiceContext;
  clock: ManualClock;
  to: Date;
}): Promise<Date> => {
  if (to.getTime() < clock.now().getTime()) {
    throw invalid("time never moves backwards", [
      { path: ["advanceTo"], message: `must not be before ${clock.now().toISOString()}` },
    ]);
  }
  await runDueWork(ctx);
  for (let step = 0; step < MAX_STEPS; step++) {
    const next = await nextDueAt(ctx);
    if (!next || next.getTime() > to.getTime()) break;
    if (next.getTime() > clock.now().getTime()) clock.set(next);
    await persist(ctx.db, clock);
    await runDueWork(ctx);
  }
  clock.set(to);
  await persist(ctx.db, clock);
  await runDueWork(ctx);
  return clock.now();
};
