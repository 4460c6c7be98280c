/** @jsxImportSource hono/jsx */
import { minorToDecimalString } from "../../billing/money.ts";
import type { consoleOverview } from "../../services/console/console-overview.ts";
import { Chart, type ChartData, day, instant, Layout, Money, type PageContext } from "./layout.tsx";

type Overview = Awaited<ReturnType<typeof consoleOverview>>;

const unixDay = (isoDay: string) => Date.parse(`${isoDay}T00:00:00Z`) / 1000;
const major = (amount: number | null, currency: string) =>
  amount === null ? null : Number(minorToDecimalString(amount, currency));

/** The MRR history as chart points: major units per currency per day. */
export const mrrChartData = (history: Overview["history"]): ChartData => ({
  x: history.days.map(unixDay),
  series: Object.entries(history.series).map(([currency, values]) => ({
    label: `MRR ${currency.toUpperCase()}`,
    values: values.map((v) => major(v, currency)),
  })),
});

const revenueChartData = (revenue: Overview["revenue"]): ChartData => ({
  x: revenue.months.map((m) => unixDay(`${m}-01`)),
  series: Object.entries(revenue.collected).map(([currency, values]) => ({
    label: `Collected ${currency.toUpperCase()}`,
    values: values.map((v) => major(v, currency)),
  })),
});

export const OverviewPage = ({ page, data }: { page: PageContext; data: Overview }) => {
  const { overview, history, revenue, retrying, alerts } = data;
  const mrr = Object.entries(overview.mrr);
  return (
    <Layout title="Overview" active="overview" page={page}>
      <h1>Overview</h1>
      <div class="cards">
        <div>
          <div class="label">MRR now</div>
          <div class="value" data-testid="mrr-now">
            {mrr.length === 0
              ? "0"
              : mrr.map(([currency, amount], i) => (
                  <>
                    {i > 0 ? ", " : ""}
                    <Money amount={amount} currency={currency} />
                  </>
                ))}
          </div>
        </div>
        <div>
          <div class="label">Active</div>
          <div class="value" data-testid="count-active">
            {overview.activePlatforms}
          </div>
        </div>
        <div>
          <div class="label">Trialing</div>
          <div class="value" data-testid="count-trialing">
            {overview.trialingPlatforms}
          </div>
        </div>
        <div>
          <div class="label">Past due</div>
          <div class="value" data-testid="count-past-due">
            {overview.pastDuePlatforms}
          </div>
        </div>
        <div>
          <div class="label">Unpaid</div>
          <div class="value" data-testid="count-unpaid">
            {overview.unpaidPlatforms}
          </div>
        </div>
        <div>
          <div class="label">Failed payments awaiting retry</div>
          <div class="value" data-testid="retrying">
            {retrying.count}
          </div>
        </div>
        <div>
          <div class="label">Usage alerts this period</div>
          <div class="value" data-testid="alerts">
            {alerts.total}
            <span class="muted">
              {" "}
              ({alerts.byThreshold["80"] ?? 0} at 80 %, {alerts.byThreshold["100"] ?? 0} at 100 %)
            </span>
          </div>
        </div>
      </div>

      <div class="grid2">
        <section>
          <h2>MRR, last 12 months</h2>
          <Chart
            name="mrr"
            caption={`Daily MRR per currency from the worker's snapshots, ${history.days[0]} to ${history.days.at(-1)}`}
            data={mrrChartData(history)}
          />
        </section>
        <section>
          <h2>Revenue collected per month</h2>
          <Chart
            name="revenue"
            caption="Paid invoices by month paid"
            data={revenueChartData(revenue)}
          />
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Month</th>
                  {Object.keys(revenue.collected).map((c) => (
                    <th scope="col" class="num">
                      {c.toUpperCase()}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {revenue.months.map((month, i) => (
                  <tr>
                    <td>{month}</td>
                    {Object.entries(revenue.collected).map(([currency, values]) => (
                      <td class="num">
                        <Money amount={values[i] ?? 0} currency={currency} />
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      </div>

      <h2>Failed payments awaiting retry</h2>
      {retrying.first.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Invoice</th>
                <th scope="col">Platform</th>
                <th scope="col" class="num">
                  Due
                </th>
                <th scope="col" class="num">
                  Attempts
                </th>
                <th scope="col">Next attempt</th>
              </tr>
            </thead>
            <tbody>
              {retrying.first.map((r) => (
                <tr>
                  <td>{r.number ?? r.invoiceId}</td>
                  <td>
                    {r.platformId ? (
                      <a href={`/console/platforms/${encodeURIComponent(r.platformId)}`}>
                        {r.platformId}
                      </a>
                    ) : null}
                  </td>
                  <td class="num">
                    <Money amount={r.amountDue} currency={r.currency} />
                  </td>
                  <td class="num">{r.attemptCount}</td>
                  <td>{instant(r.nextPaymentAttempt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p class="muted">
        Figures at {instant(data.now)} ({day(data.now)}); tiers:{" "}
        {Object.entries(overview.tiers)
          .map(([tier, n]) => `${tier} ${n}`)
          .join(", ")}
        ; incomplete {overview.incompletePlatforms}; items set aside by the worker{" "}
        {overview.failingItems}.
      </p>
    </Layout>
  );
};
