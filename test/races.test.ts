import { and, eq, sql } from "drizzle-orm";
import { describe, it } from "vitest";
import {
  balanceEntries,
  customers,
  invoiceLines,
  invoices,
  paymentMethods,
  stripeEmuObjects,
  subscriptions,
} from "../src/db/schema/index.ts";
import {
  AFTER_START,
  AROUND_CHARGE,
  advanceTo,
  attachCard,
  cancelNow,
  changeTier,
  GRACE_MS,
  ingest,
  invoicesOf,
  LOSER_STATUSES,
  PAYMENT_ROUNDS,
  type Problems,
  pastDue,
  playRounds,
  prorationCredits,
  ROUNDS,
  race,
  raceApp,
  range,
  retire,
  type Subscribed,
  setDefault,
  sleep,
  subscribe,
  subscriptionRow,
  succeededCharges,
  sweep,
  TOGETHER,
  usagePackagesBilled,
  workerAt,
  workerPass,
} from "./fixtures/race-kit.ts";
import type { TestApp, TestResponse } from "./harness.ts";

/**
 * Money races: requests (and the worker) fired at once against one subscription, then the whole
 * database checked against the money invariants (test/invariants.ts) and each scenario's own
 * expectations. On PostgreSQL the sides really run in parallel; on PGlite every statement is
 * serialised, but the sides still interleave between statements, so the tests run there too.
 *
 * Each scenario plays several rounds, each on a fresh platform, and reports every round that
 * went wrong rather than stopping at the first. The clock stands still during a round (as the
 * operator test clock does), so every side of a race sees the same instant; where a race needs
 * time to move (a request that read the time before the worker renewed), the worker runs as a
 * second instance whose clock is a moment ahead. Rounds sweep when the second side starts,
 * relative to the first side's start or to its charge at the processor (the app's processor is
 * wrapped to signal charges; see `race`). Losers of a race may answer 200 with no effect, 402 or
 * 409 depending on how the service decides; never 5xx.
 */
/**
 * N identical upgrades of one subscription: exactly one is applied and paid, once; the others
 * leave no invoice, no charge and no credit behind (they may answer 409, 402 or a 200 that
 * changed nothing). `invoiceOf` reads the proration invoice a 200 answered, where the route
 * says (change-tier does; PATCH answers the subscription only).
 */
const identicalUpgrades = async (
  t: TestApp,
  problems: Problems,
  upgrade: (s: Subscribed) => Promise<TestResponse>,
  invoiceOf?: (res: TestResponse) => string | null,
) => {
  const s = await subscribe(t, { priceId: "price_starter_monthly" });
  const at = t.clock.now();
  const responses = await Promise.all(range(5).map(() => upgrade(s)));
  problems.statuses(responses, LOSER_STATUSES, "upgrade");
  const ok = responses.filter((r) => r.status === 200);
  problems.check(ok.length >= 1, "none of 5 identical upgrades answered 200");
  const row = await subscriptionRow(t, s.subscriptionId);
  problems.check(row.priceId === "price_scale_monthly", `the subscription is on ${row.priceId}`);
  const prorations = await invoicesOf(t, s, "proration");
  const paid = prorations.filter((i) => i.status === "paid");
  problems.check(
    prorations.length === 1 && paid.length === 1,
    `proration invoices: ${prorations.map((i) => `${i.number} ${i.status} ${i.total}`).join(", ")}`,
  );
  if (invoiceOf) {
    const answered = ok.flatMap((r) => invoiceOf(r) ?? []);
    problems.check(
      answered.length === 1 && answered[0] === paid[0]?.id,
      `the 200s answered invoices [${answered}], the paid one is ${paid[0]?.id}`,
    );
  }
  const charges = await succeededCharges(
    t,
    prorations.map((i) => i.id),
  );
  problems.check(charges === 1, `${charges} succeeded charges for the upgrade`);
  const credits = await prorationCredits(t, s);
  problems.check(credits.length === 0, `${credits.length} credit entries for an upgrade`);
  return { planChanges: [{ subscriptionId: s.subscriptionId, at }] };
};

describe("races on one subscription", () => {
  // (a) Five identical upgrades at once through change-tier: each used to invoice and charge
  // before the one guarded update, so the losers' customers paid for nothing.
  it("a: concurrent identical change-tier upgrades are charged once", async () => {
    const t = await raceApp();
    await playRounds(t, ROUNDS, (_, problems) =>
      identicalUpgrades(
        t,
        problems,
        (s) => changeTier(t, s, "scale"),
        (res) => res.body.invoice?.id ?? null,
      ),
    );
  });

  // (b) Upgrades and downgrades of one subscription at once: a downgrade's credit, or an
  // upgrade's charge, for a change that was not applied.
  it("b: interleaved upgrades and downgrades charge and credit only what was applied", async () => {
    const t = await raceApp();
    await playRounds(t, ROUNDS, async (_, problems) => {
      const s = await subscribe(t, { priceId: "price_growth_monthly" });
      const at = t.clock.now();
      const tiers = ["scale", "starter", "scale", "starter"];
      const responses = await Promise.all(tiers.map((tier) => changeTier(t, s, tier)));
      responses.forEach((res, k) => {
        problems.status(res, LOSER_STATUSES, `to ${tiers[k]}`);
      });
      const won = responses.filter((r) => r.status === 200);
      problems.check(won.length >= 1, "no change was applied");
      const credits = await prorationCredits(t, s);
      const credited = won.reduce((n, r) => n + (r.body.credited ?? 0), 0);
      problems.check(
        credits.reduce((n, e) => n + e.amount, 0) === credited,
        `credit entries [${credits.map((e) => e.amount)}] but the 200s credited ${credited}`,
      );
      const paid = (await invoicesOf(t, s, "proration")).filter((i) => i.status === "paid");
      const answered = won.flatMap((r) => (r.body.invoice ? [r.body.invoice.id] : []));
      problems.check(
        paid.length === answered.length && paid.every((i) => answered.includes(i.id)),
        `paid proration invoices [${paid.map((i) => i.number)}], but the 200s answered [${answered}]`,
      );
      return { planChanges: [{ subscriptionId: s.subscriptionId, at }] };
    });
  });

  // (c) As (a), through PATCH /subscriptions/{id} {priceId}.
  it("c: concurrent identical PATCH price upgrades are charged once", async () => {
    const t = await raceApp();
    await playRounds(t, ROUNDS, (_, problems) =>
      identicalUpgrades(t, problems, (s) =>
        t.request("PATCH", `/subscriptions/${s.subscriptionId}`, {
          key: s.key,
          body: { priceId: "price_scale_monthly" },
        }),
      ),
    );
  });

  // (d) Immediate cancel against an upgrade and against a downgrade: the change's guard did not
  // look at the status, so a canceled subscription could be upgraded (and charged) or credited
  // for a downgrade after it ended. Usage beyond every plan's allowance puts the tier at cancel
  // time on the final invoice (bandwidth at 20/10/5 cents a GB for starter/growth/scale).
  it("d: immediate cancel against change-tier (up and down)", async () => {
    const t = await raceApp();
    const tierByBandwidthPrice: Record<number, string> = {
      20: "starter",
      10: "growth",
      5: "scale",
    };
    await playRounds(t, ROUNDS, async (k, problems) => {
      const s = await subscribe(t, { priceId: "price_growth_monthly" });
      await ingest(t, s, "bandwidth_gb", 6000);
      const at = t.clock.now();
      // An upgrade charges: the cancel comes around that charge. A downgrade is one quick
      // write: it comes a moment after the cancel started, to read the row before it commits.
      const upgrade = k % 2 === 0;
      const target = upgrade ? "scale" : "starter";
      const change = () => changeTier(t, s, target);
      const cancel = () => cancelNow(t, s);
      const round = Math.floor(k / 2);
      let changed: TestResponse;
      let canceled: TestResponse;
      if (upgrade) {
        [changed, canceled] = await race(t, problems, sweep(AROUND_CHARGE, round), change, cancel);
      } else {
        [canceled, changed] = await race(t, problems, sweep(AFTER_START, round), cancel, change);
      }
      // 409: the cancel came while the upgrade's charge was in flight (the change holds the
      // subscription until it is settled); the caller tries again.
      problems.status(canceled, [200, 409], "cancel");
      // 404: the cancel came first and the platform has no live subscription left to change.
      problems.status(changed, [...LOSER_STATUSES, 404], `change to ${target}`);
      const row = await subscriptionRow(t, s.subscriptionId);
      const [final] = await invoicesOf(t, s, "final");
      if (canceled.status !== 200) {
        problems.check(
          row.status !== "canceled" && final === undefined,
          `cancel answered ${canceled.status} but the subscription is ${row.status} with ${final ? "a" : "no"} final invoice`,
        );
        return { planChanges: [{ subscriptionId: s.subscriptionId, at }] };
      }
      const bandwidth = final
        ? (
            await t.deps.db.select().from(invoiceLines).where(eq(invoiceLines.invoiceId, final.id))
          ).find((l) => l.meter === "bandwidth_gb")
        : undefined;
      const tierAtCancel = bandwidth ? tierByBandwidthPrice[bandwidth.unitAmount] : undefined;
      problems.check(
        tierAtCancel === row.tier,
        `canceled on ${tierAtCancel ?? "?"} (final invoice), but the subscription is ${row.tier} now (change to ${target} answered ${changed.status})`,
      );
      return {
        canceled: [s.subscriptionId],
        planChanges: [{ subscriptionId: s.subscriptionId, at }],
      };
    });
  });

  // (m) Ten subscribe requests for one platform with different cards: each attached its card and
  // made it the default before the one insert that can win.
  it("m: concurrent subscribes attach one card, the subscription's default", async () => {
    const t = await raceApp();
    await playRounds(t, ROUNDS, async (_, problems) => {
      const p = await t.createPlatform();
      const cards = range(10).map((k) => (k % 2 === 0 ? "pm_card_visa" : "pm_card_mastercard"));
      const responses = await Promise.all(
        cards.map((card) =>
          t.request("POST", "/subscriptions", {
            key: p.key,
            body: { userId: p.platformId, priceId: "price_starter_monthly", paymentMethodId: card },
          }),
        ),
      );
      const created = responses.filter((r) => r.status === 201);
      problems.check(created.length === 1, `${created.length} subscribes answered 201`);
      problems.statuses(responses, [201, 409], "subscribe");
      const sub = created[0]?.body;
      const attached = await t.deps.db
        .select({ id: stripeEmuObjects.id })
        .from(stripeEmuObjects)
        .where(
          and(
            eq(stripeEmuObjects.object, "payment_method"),
            eq(stripeEmuObjects.customer, p.customerId),
          ),
        );
      problems.check(attached.length === 1, `${attached.length} cards attached at the processor`);
      const local = await t.deps.db
        .select({ id: paymentMethods.id })
        .from(paymentMethods)
        .where(eq(paymentMethods.customerId, p.customerId));
      problems.check(local.length === 1, `${local.length} cards on file locally`);
      const [atProcessor] = await t.deps.db
        .select({
          pm: sql<
            string | null
          >`${stripeEmuObjects.data}->'invoice_settings'->>'default_payment_method'`,
        })
        .from(stripeEmuObjects)
        .where(eq(stripeEmuObjects.id, p.customerId));
      const [customer] = await t.deps.db
        .select()
        .from(customers)
        .where(eq(customers.id, p.customerId));
      problems.check(
        sub !== undefined &&
          atProcessor?.pm === sub.defaultPaymentMethodId &&
          customer?.defaultPaymentMethodId === sub.defaultPaymentMethodId,
        `the subscription pays with ${sub?.defaultPaymentMethodId}, the customer's default is ${atProcessor?.pm} at the processor and ${customer?.defaultPaymentMethodId} locally`,
      );
      return undefined;
    });
  });

  // (k) Two operator overrides at once: the optimistic guard compared updated_at, which a clock
  // standing still never changes, so both answered 200 and one was silently overwritten. From
  // outside, two blind writes of the tier look like a serial order; what can be checked is that
  // the row ends on the tier of the 200 that answered last and no 409 loser's tier sticks.
  it("k: concurrent operator overrides: one wins, or both apply in order", async () => {
    const t = await raceApp();
    await playRounds(t, ROUNDS, async (_, problems) => {
      const s = await subscribe(t, { priceId: "price_starter_monthly" });
      const order: Array<{ tier: string; res: TestResponse }> = [];
      const override = async (tier: string) => {
        const res = await t.request(
          "PATCH",
          `/operator/subscriptions/${s.subscriptionId}/override`,
          {
            body: { planTier: tier },
          },
        );
        order.push({ tier, res });
        return res;
      };
      const responses = await Promise.all([override("growth"), override("scale")]);
      problems.statuses(responses, [200, 409], "override");
      const ok = order.filter((o) => o.res.status === 200);
      const row = await subscriptionRow(t, s.subscriptionId);
      problems.check(ok.length >= 1, "no override answered 200");
      problems.check(
        ok.at(-1)?.tier === row.tier,
        `answered 200: ${ok.map((o) => o.tier)}; the subscription is ${row.tier}`,
      );
      const stale = ok.filter((o) => o.res.body.tier !== row.tier);
      problems.check(stale.length <= 1, `${stale.length} overrides answered a tier that was lost`);
      return undefined;
    });
  });
});

describe("races with payments", () => {
  // (g) A declined upgrade against set-default of a good card: set-default retried every open
  // invoice, the upgrade's too while it was being charged, and paid it after the upgrade voided
  // it, or answered 422 when both attempts used one idempotency key with different cards.
  it("g: set-default against a declined upgrade", async () => {
    const t = await raceApp();
    await playRounds(t, PAYMENT_ROUNDS, async (k, problems) => {
      const s = await subscribe(t, { priceId: "price_growth_monthly" });
      await attachCard(t, s, "pm_card_chargeDeclined", true);
      const at = t.clock.now();
      const [upgrade, defaults] = await race(
        t,
        problems,
        sweep(AFTER_START, k),
        () => changeTier(t, s, "scale"),
        // Two, a moment apart, to land in the short window between decline and void.
        () => Promise.all([0, 2].map((ms) => sleep(ms).then(() => setDefault(t, s, s.cardId)))),
      );
      problems.status(upgrade, [200, 402, 409], "upgrade");
      problems.statuses(defaults, [200], "set-default");
      return { planChanges: [{ subscriptionId: s.subscriptionId, at }] };
    });
  });

  // (h) Immediate cancel against the collection of a past-due invoice: a successful retry set the
  // subscription back to active whatever its status, reviving a canceled one, which then renewed
  // and was charged again.
  it("h: immediate cancel against paying a past-due invoice", async () => {
    const t = await raceApp();
    await playRounds(t, PAYMENT_ROUNDS, async (k, problems) => {
      const s = await pastDue(t);
      const [defaulted, canceled] = await race(
        t,
        problems,
        sweep(AROUND_CHARGE, k),
        () => setDefault(t, s, s.cardId),
        () => cancelNow(t, s),
      );
      problems.status(canceled, [200], "cancel");
      problems.status(defaulted, [200], "set-default");
      // A period later, with the worker run at every due instant on the way.
      await advanceTo(t, new Date(s.periodEnd.getTime() + 86_400_000));
      const row = await subscriptionRow(t, s.subscriptionId);
      problems.check(row.status === "canceled", `the canceled subscription is ${row.status}`);
      const renewals = await invoicesOf(t, s, "renewal");
      problems.check(
        renewals.length === 1,
        `${renewals.length} renewal invoices: ${renewals.map((i) => `${i.number} ${i.status}`)}`,
      );
      await retire(t, s);
      return { canceled: [s.subscriptionId] };
    });
  });

  // (i) Subscribing again after a declined first charge, while set-default retries the old
  // invoice: the old invoice was charged as the new subscription voided it (and reviving the old
  // subscription then hit the one-live index: 500), so the first month was paid twice.
  it("i: re-subscribe after a decline against a retry of the first invoice", async () => {
    const t = await raceApp();
    await playRounds(t, PAYMENT_ROUNDS, async (k, problems) => {
      const s = await subscribe(t, {
        priceId: "price_growth_monthly",
        card: "pm_card_chargeDeclined",
      });
      const visa = await attachCard(t, s, "pm_card_visa");
      const [defaulted, again] = await race(
        t,
        problems,
        sweep(AFTER_START, k),
        () => setDefault(t, s, visa),
        () =>
          t.request("POST", "/subscriptions", {
            key: s.key,
            body: {
              userId: s.platformId,
              priceId: "price_growth_monthly",
              paymentMethodId: "pm_card_mastercard",
            },
          }),
      );
      problems.status(again, [201, 402, 409], "subscribe again");
      problems.status(defaulted, [200], "set-default");
      const first = await invoicesOf(t, s, "subscription_create");
      const paid = first.filter((i) => i.status === "paid");
      const charges = await succeededCharges(
        t,
        first.map((i) => i.id),
      );
      problems.check(
        paid.length <= 1 && charges <= 1,
        `first month: ${paid.length} paid invoices, ${charges} succeeded charges (${first.map((i) => `${i.number} ${i.status}`)})`,
      );
      const live = (
        await t.deps.db
          .select()
          .from(subscriptions)
          .where(eq(subscriptions.platformId, s.platformId))
      ).filter((r) => r.status !== "canceled");
      problems.check(
        live.length === 1 && live[0]?.status === "active",
        `live subscriptions: ${live.map((r) => `${r.id} ${r.status}`)}`,
      );
      return undefined;
    });
  });

  // (j) Set-default against the worker's dunning retry of the same invoice: set-default reset the
  // worker's lease, both charged with one idempotency key and different cards, and one side
  // failed (422, or the worker's attempt lost and the invoice stayed open).
  it("j: set-default against a dunning retry by the worker", async () => {
    const t = await raceApp();
    await playRounds(t, PAYMENT_ROUNDS, async (k, problems) => {
      const s = await pastDue(t);
      const retryAt = s.renewal.nextPaymentAttempt;
      if (!retryAt) throw new Error("no retry scheduled");
      t.clock.set(retryAt);
      const [defaulted, worker] = await race(
        t,
        problems,
        sweep(AFTER_START, k),
        () => setDefault(t, s, s.cardId),
        () => workerPass(t),
      );
      problems.status(worker, [200], "worker");
      problems.status(defaulted, [200], "set-default");
      const [renewal] = await invoicesOf(t, s, "renewal");
      const charges = await succeededCharges(t, renewal ? [renewal.id] : []);
      problems.check(
        renewal?.status === "paid" && charges === 1,
        `renewal invoice ${renewal?.status} with ${charges} succeeded charges`,
      );
      await retire(t, s);
      return undefined;
    });
  });
});

describe("races with the worker at a period boundary", () => {
  // (e) change-tier against the renewal. At the very end of the period the change prorated over
  // an empty remainder and failed (500). Started an hour before the end, with the worker renewing
  // at the end while the change's charge is in flight (`workerAt`: time moves on during the
  // charge), the change was applied on top of the renewal: the new period billed at the old
  // price, the subscription on the new one, and the proration computed against the old period.
  it("e: change-tier against the renewal", async () => {
    const t = await raceApp();
    await playRounds(t, ROUNDS, async (k, problems) => {
      const s = await subscribe(t, { priceId: "price_starter_monthly" });
      const atTheEnd = k % 2 === 0;
      const at = atTheEnd ? s.periodEnd : new Date(s.periodEnd.getTime() - 3_600_000);
      t.clock.set(at);
      const [changed, worker] = await race(
        t,
        problems,
        atTheEnd ? TOGETHER : { on: "charging", delayMs: 0 },
        () => changeTier(t, s, "growth"),
        () => workerPass(t, workerAt(t, s.periodEnd)),
      );
      problems.status(worker, [200], "worker");
      problems.status(changed, LOSER_STATUSES, "change to growth");
      t.clock.set(s.periodEnd);
      await retire(t, s);
      return { planChanges: [{ subscriptionId: s.subscriptionId, at }] };
    });
  });

  // (f) The operator's invoice run against the renewal: both read the closed period's overage
  // before either had billed it, and both billed it. (The renewal no longer reads usage: the
  // closed period's usage is billed after the grace, less what the operator's invoice billed.)
  it("f: generate invoice against the renewal bills the overage once", async () => {
    const t = await raceApp();
    await playRounds(t, ROUNDS, async (_, problems) => {
      const s = await subscribe(t, { priceId: "price_starter_monthly" });
      // Starter includes 100,000 requests, then $1 per started 10,000: 3 packages.
      await ingest(t, s, "api_requests", 125_001);
      t.clock.set(s.periodEnd);
      const [worker, generated] = await race(
        t,
        problems,
        TOGETHER,
        () => workerPass(t),
        () =>
          t.request("POST", "/operator/invoices/generate", { body: { customerId: s.customerId } }),
      );
      problems.status(worker, [200], "worker");
      problems.status(generated, [201, 409], "generate");
      t.clock.set(s.periodEnd.getTime() + GRACE_MS);
      problems.status(await workerPass(t), [200], "usage job");
      const billed = await usagePackagesBilled(t, s, "api_requests", s.periodStart);
      problems.check(billed === 3, `the period's overage billed as ${billed} packages, not 3`);
      await retire(t, s);
      return undefined;
    });
  });

  // (l) Immediate cancel against the renewal at the period boundary. The cancel read the time a
  // millisecond before the end, then waited for the row the worker was renewing as time reached
  // the end (`workerAt`), and closed the renewed period before it started: a final invoice that
  // ends before it starts, and a period billed after the cancel.
  it("l: immediate cancel against the renewal", async () => {
    const t = await raceApp();
    await playRounds(t, ROUNDS, async (k, problems) => {
      const s = await subscribe(t, { priceId: "price_starter_monthly" });
      await ingest(t, s, "api_requests", 125_001);
      t.clock.set(s.periodEnd.getTime() - 1);
      const [worker, canceled] = await race(
        t,
        problems,
        sweep(AFTER_START, k),
        () => workerPass(t, workerAt(t, s.periodEnd)),
        () => cancelNow(t, s),
      );
      problems.status(canceled, [200], "cancel");
      problems.status(worker, [200], "worker");
      await advanceTo(t, new Date(s.periodEnd.getTime() + 40 * 86_400_000));
      const billed = await usagePackagesBilled(t, s, "api_requests", s.periodStart);
      problems.check(billed === 3, `the period's overage billed as ${billed} packages, not 3`);
      return { canceled: [s.subscriptionId] };
    });
  });
});

describe("races with the usage job", () => {
  // (o) Usage for a closed period ingested while the usage job bills that period (after the
  // grace): whichever commits first, the events are billed exactly once — on the closed period's
  // usage invoice, or as usage received late on the next period's.
  it("o: late events against the usage job are billed once, on time or as received late", async () => {
    const t = await raceApp();
    await playRounds(t, ROUNDS, async (k, problems) => {
      const s = await subscribe(t, { priceId: "price_starter_monthly" });
      // Starter includes 100,000 requests, then $1 per started 10,000: 3 packages so far.
      await ingest(t, s, "api_requests", 125_001);
      t.clock.set(s.periodEnd);
      problems.status(await workerPass(t), [200], "renewal");
      t.clock.set(s.periodEnd.getTime() + GRACE_MS);
      // 20,000 more, timestamped in the closed period, in two batches: 5 packages in all.
      const late = (n: number) => () =>
        t.request("POST", "/usage/events", {
          key: s.key,
          body: {
            events: [
              {
                id: `late-${k}-${n}`,
                platformId: s.platformId,
                meter: "api_requests",
                value: 10_000,
                timestamp: new Date(s.periodEnd.getTime() - 60_000 * (n + 1)).toISOString(),
              },
            ],
          },
        });
      const [worker, ingested] = await race(
        t,
        problems,
        sweep(AFTER_START, k),
        () => workerPass(t),
        () => Promise.all([late(0)(), late(1)()]),
      );
      problems.status(worker, [200], "usage job");
      problems.statuses(ingested, [200], "late ingestion");
      const onTime = await usagePackagesBilled(t, s, "api_requests", s.periodStart);
      problems.check(
        onTime >= 3 && onTime <= 5,
        `the closed period's usage invoice billed ${onTime} packages, not 3 to 5`,
      );
      // The next period's usage invoice bills whatever the race left out, as received late.
      const [row] = await t.deps.db
        .select({ end: subscriptions.currentPeriodEnd })
        .from(subscriptions)
        .where(eq(subscriptions.id, s.subscriptionId));
      await advanceTo(t, new Date((row?.end.getTime() ?? 0) + GRACE_MS));
      const billed = await usagePackagesBilled(t, s, "api_requests", s.periodStart);
      problems.check(billed === 5, `the period's overage billed as ${billed} packages, not 5`);
      const lateLines = await t.deps.db
        .select({ description: invoiceLines.description, quantity: invoiceLines.quantity })
        .from(invoiceLines)
        .innerJoin(invoices, eq(invoices.id, invoiceLines.invoiceId))
        .where(
          and(
            eq(invoices.subscriptionId, s.subscriptionId),
            eq(invoiceLines.periodStart, s.periodStart),
            sql`${invoiceLines.description} like '%received late%'`,
          ),
        );
      problems.check(
        lateLines.length === (onTime === 5 ? 0 : 1) && (lateLines[0]?.quantity ?? 0) === 5 - onTime,
        `late lines ${JSON.stringify(lateLines)} after ${onTime} packages billed on time`,
      );
      await retire(t, s);
      return undefined;
    });
  });
});

describe("races on the balance", () => {
  // (n) Operator credits while invoices are generated for the same customer: every credit is in
  // the ledger once, and applications never take more than the balance.
  it("n: concurrent credits and invoice generation keep the ledger", async () => {
    const t = await raceApp();
    await playRounds(t, ROUNDS, async (k, problems) => {
      const s = await subscribe(t, { priceId: "price_starter_monthly" });
      await ingest(t, s, "api_requests", 125_001);
      const credit = () =>
        t.request("POST", "/operator/credits", {
          body: { customerId: s.customerId, amount: 1.25, description: "race credit" },
        });
      const generate = () =>
        t.request("POST", "/operator/invoices/generate", { body: { customerId: s.customerId } });
      const [generated, credits] = await race(
        t,
        problems,
        sweep(AROUND_CHARGE, k),
        () => Promise.all([generate(), generate()]),
        () => Promise.all([credit(), credit(), credit()]),
      );
      problems.statuses(generated, [201, 409], "generate");
      problems.statuses(credits, [200], "credit");
      problems.check(
        generated.filter((r) => r.status === 201).length === 1,
        `generated: ${generated.map((r) => r.status)}`,
      );
      const entries = await t.deps.db
        .select()
        .from(balanceEntries)
        .where(
          and(
            eq(balanceEntries.customerId, s.customerId),
            eq(balanceEntries.kind, "operator_credit"),
          ),
        );
      problems.check(entries.length === 3, `${entries.length} operator credits in the ledger`);
      return undefined;
    });
  });
});
