import { eq, sql } from "drizzle-orm";
import { describe, it } from "vitest";
import { balanceEntries } from "../src/db/schema/index.ts";
import {
  AFTER_START,
  AROUND_CHARGE,
  cancelNow,
  invoicesOf,
  LOSER_STATUSES,
  type Platform,
  type Problems,
  playRounds,
  ROUNDS,
  race,
  raceApp,
  range,
  retire,
  type Subscribed,
  subscribe,
  subscriptionRow,
  succeededCharges,
  sweep,
  workerAt,
  workerPass,
} from "./fixtures/race-kit.ts";
import type { TestApp, TestResponse } from "./harness.ts";

/**
 * Races on the plan changes customers make (issue 14): changes scheduled for the period's end
 * against each other, against a cancellation and against the renewal that applies them (two
 * workers at once), and a change of interval — which charges a whole new period — against an
 * immediate cancel. Every round is also checked against the money invariants (charges = paid
 * invoices, ledger = balance, one live subscription, gap-free numbers).
 */

const schedule = (t: TestApp, s: Platform, body: Record<string, unknown>) =>
  t.request("POST", "/subscription/change-tier", {
    key: s.key,
    body: { ...body, at: "period_end" },
  });

const ledgerEntries = async (t: TestApp, s: Platform) =>
  t.deps.db.select().from(balanceEntries).where(eq(balanceEntries.customerId, s.customerId));

/** The renewal at the period's end applied what the subscription had scheduled, once. */
const checkRenewalApplied = async (
  t: TestApp,
  problems: Problems,
  s: Subscribed,
  before: Awaited<ReturnType<typeof subscriptionRow>>,
) => {
  const renewals = await invoicesOf(t, s, "renewal");
  const row = await subscriptionRow(t, s.subscriptionId);
  if (before.cancelAtPeriodEnd) {
    problems.check(
      row.status === "canceled" && renewals.length === 0,
      `canceled at period end, but ${row.status} with ${renewals.length} renewal invoices`,
    );
    return;
  }
  const plan = before.pendingChange ?? before;
  problems.check(
    renewals.length === 1 && renewals[0]?.total === plan.unitAmount * plan.quantity,
    `renewals [${renewals.map((i) => i.total)}], the plan scheduled costs ${plan.unitAmount * plan.quantity}`,
  );
  problems.check(
    row.priceId === plan.priceId && row.quantity === plan.quantity && row.pendingChange === null,
    `renewed onto ${row.priceId} × ${row.quantity} (pending ${JSON.stringify(row.pendingChange)}), scheduled ${plan.priceId} × ${plan.quantity}`,
  );
  const charges = await succeededCharges(
    t,
    renewals.map((i) => i.id),
  );
  problems.check(charges === 1, `${charges} succeeded charges for the renewal`);
};

describe("races on scheduled changes", () => {
  // (p) Scheduled changes of one subscription at once, with a cancellation at period end in
  // every other round; then two workers renew it at once. Whatever order the requests took, the
  // subscription holds one outcome, nothing moved money before the period's end, and the renewal
  // applies that outcome exactly once.
  it("p: concurrent scheduled changes and a cancel, then two workers at the period's end", async () => {
    const t = await raceApp();
    await playRounds(t, ROUNDS, async (k, problems) => {
      const s = await subscribe(t, { priceId: "price_growth_monthly" });
      const requests: Array<() => Promise<TestResponse>> = [
        () => schedule(t, s, { tier: "scale" }),
        () => schedule(t, s, { tier: "starter" }),
        () => schedule(t, s, { tier: "scale", interval: "year" }),
        () =>
          t.request("PATCH", `/subscriptions/${s.subscriptionId}`, {
            key: s.key,
            body: { quantity: 2, at: "period_end" },
          }),
        () => t.request("DELETE", "/subscription/pending-change", { key: s.key }),
      ];
      if (k % 2 === 0) {
        requests.push(() => t.request("POST", "/subscription/cancel", { key: s.key }));
      }
      const responses = await Promise.all(requests.map((send) => send()));
      problems.statuses(responses, [200, 409], "request");
      const before = await subscriptionRow(t, s.subscriptionId);
      problems.check(
        !(before.cancelAtPeriodEnd && before.pendingChange),
        "both a cancellation and a change are scheduled",
      );
      problems.check(
        (await invoicesOf(t, s)).length === 1 && (await ledgerEntries(t, s)).length === 0,
        "a scheduled change invoiced or credited something before the period's end",
      );
      const [a, b] = await Promise.all([
        workerPass(t, workerAt(t, s.periodEnd)),
        workerPass(t, workerAt(t, s.periodEnd)),
      ]);
      problems.statuses([a, b], [200], "worker");
      await checkRenewalApplied(t, problems, s, before);
      await retire(t, s);
      return before.cancelAtPeriodEnd ? { canceled: [s.subscriptionId] } : undefined;
    });
  });

  // (r) A change scheduled a millisecond before the period's end against the worker renewing at
  // the end: it lands on the period that ends (the renewal applies it) or on the next one (the
  // renewal was first, and the change waits for the following renewal); never half of each.
  it("r: a change scheduled against the renewal applies to one period, whole", async () => {
    const t = await raceApp();
    await playRounds(t, ROUNDS, async (k, problems) => {
      const s = await subscribe(t, { priceId: "price_starter_monthly" });
      t.clock.set(s.periodEnd.getTime() - 1);
      const [worker, scheduled] = await race(
        t,
        problems,
        sweep(AFTER_START, k),
        () => workerPass(t, workerAt(t, s.periodEnd)),
        () => schedule(t, s, { tier: "growth" }),
      );
      problems.status(worker, [200], "worker");
      problems.status(scheduled, [200], "schedule");
      // A worker that met the schedule's row lock skipped the row (SKIP LOCKED); the next pass
      // renews it.
      problems.status(await workerPass(t, workerAt(t, s.periodEnd)), [200], "next worker pass");
      const row = await subscriptionRow(t, s.subscriptionId);
      const renewals = await invoicesOf(t, s, "renewal");
      const renewedAt = renewals.map((i) => i.total);
      if (row.pendingChange) {
        problems.check(
          row.priceId === "price_starter_monthly" && renewedAt.join() === "2900",
          `scheduled after the renewal, but renewed at [${renewedAt}] onto ${row.priceId}`,
        );
        problems.check(
          scheduled.body.subscription?.pendingChange?.effectiveAt ===
            row.currentPeriodEnd.toISOString(),
          "the change answered takes effect at another instant than the next renewal",
        );
      } else {
        problems.check(
          row.priceId === "price_growth_monthly" && renewedAt.join() === "9900",
          `scheduled before the renewal, but renewed at [${renewedAt}] onto ${row.priceId}`,
        );
      }
      await retire(t, s);
      return undefined;
    });
  });

  // (s) Ten subscriptions with changes scheduled for the same instant, renewed by two workers at
  // once: each renews once, on its scheduled price.
  it("s: two workers apply each scheduled change exactly once", async () => {
    const t = await raceApp();
    await playRounds(t, Math.max(2, Math.ceil(ROUNDS / 4)), async (_, problems) => {
      const subs: Subscribed[] = [];
      for (const _n of range(10)) subs.push(await subscribe(t, { priceId: "price_scale_monthly" }));
      const befores = [];
      for (const [n, s] of subs.entries()) {
        const res = await schedule(t, s, {
          tier: n % 2 === 0 ? "starter" : "growth",
          ...(n % 3 === 0 ? { interval: "year" } : {}),
        });
        problems.status(res, [200], `schedule ${n}`);
        befores.push(await subscriptionRow(t, s.subscriptionId));
      }
      const end = new Date(Math.max(...subs.map((s) => s.periodEnd.getTime())));
      const workers = await Promise.all([
        workerPass(t, workerAt(t, end)),
        workerPass(t, workerAt(t, end)),
      ]);
      problems.statuses(workers, [200], "worker");
      for (const [n, s] of subs.entries()) {
        const before = befores[n];
        if (before) await checkRenewalApplied(t, problems, s, before);
        await retire(t, s);
      }
      return undefined;
    });
  });
});

describe("races on interval changes", () => {
  // (q) A change to the yearly price (a whole year charged at once) against an immediate cancel:
  // the cancel waits or is refused while the change is being charged; a cancel that wins leaves
  // nothing to charge; a year charged is a year the subscription was on when it ended.
  it("q: monthly → yearly against an immediate cancel", async () => {
    const t = await raceApp();
    await playRounds(t, Math.ceil(ROUNDS * 1.5), async (k, problems) => {
      const s = await subscribe(t, { priceId: "price_starter_monthly" });
      const [changed, canceled] = await race(
        t,
        problems,
        sweep(AROUND_CHARGE, k),
        () =>
          t.request("POST", "/subscription/change-tier", {
            key: s.key,
            body: { tier: "growth", interval: "year" },
          }),
        () => cancelNow(t, s),
      );
      problems.status(changed, [...LOSER_STATUSES, 404], "change to yearly");
      problems.status(canceled, [200, 409], "cancel");
      const row = await subscriptionRow(t, s.subscriptionId);
      const paid = (await invoicesOf(t, s, "proration")).filter((i) => i.status === "paid");
      const charged = await succeededCharges(
        t,
        paid.map((i) => i.id),
      );
      problems.check(
        paid.length === charged && paid.length === (changed.status === 200 ? 1 : 0),
        `change answered ${changed.status}; paid proration invoices ${paid.length}, charges ${charged}`,
      );
      problems.check(
        (row.interval === "year") === (paid.length === 1),
        `the subscription is ${row.interval}ly, with ${paid.length} paid change invoices`,
      );
      await retire(t, s);
      return { canceled: [s.subscriptionId] };
    });
  });

  // (t) Concurrent changes from yearly to monthly prices: they take turns, and the balance holds
  // exactly the credits the applied changes answered, less what invoices used of it.
  it("t: concurrent changes to yearly and back credit and charge only what was applied", async () => {
    const t = await raceApp();
    await playRounds(t, ROUNDS, async (_, problems) => {
      const s = await subscribe(t, { priceId: "price_growth_yearly" });
      const bodies = [
        { tier: "growth", interval: "month" },
        { tier: "starter", interval: "month" },
        { tier: "scale", interval: "month" },
      ];
      const responses = await Promise.all(
        bodies.map((body) => t.request("POST", "/subscription/change-tier", { key: s.key, body })),
      );
      problems.statuses(responses, LOSER_STATUSES, "change");
      const won = responses.filter((r) => r.status === 200);
      const credited = won.reduce((n, r) => n + (r.body.credited ?? 0), 0);
      const all = await invoicesOf(t, s);
      const applied = all.reduce((n, i) => n + Math.max(0, i.creditApplied), 0);
      const [ledger] = await t.deps.db
        .select({ n: sql<number>`coalesce(sum(${balanceEntries.amount}), 0)::int` })
        .from(balanceEntries)
        .where(eq(balanceEntries.customerId, s.customerId));
      problems.check(
        Number(ledger?.n) === credited - applied,
        `the 200s credited ${credited} and invoices used ${applied}, but the ledger holds ${ledger?.n}`,
      );
      const paid = all.filter((i) => i.kind === "proration" && i.status === "paid");
      const answered = won.flatMap((r) => (r.body.invoice ? [r.body.invoice.id] : []));
      problems.check(
        paid.length === answered.length && paid.every((i) => answered.includes(i.id)),
        `paid change invoices [${paid.map((i) => i.number)}], the 200s answered [${answered}]`,
      );
      await retire(t, s);
      return undefined;
    });
  });
});
