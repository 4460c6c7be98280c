/** @jsxImportSource hono/jsx */
import type { Plan } from "../../billing/plan-catalog.ts";
import type { listApiKeys } from "../../services/api-keys.ts";
import type { customerBalanceLedger } from "../../services/console/balance-ledger.ts";
import type { CreditNote } from "../../services/credit-notes/present-credit-note.ts";
import type { Event } from "../../services/events/queries.ts";
import type { Invoice } from "../../services/invoicing.ts";
import type { Page } from "../../services/pagination.ts";
import type { PaymentMethod } from "../../services/payment-methods.ts";
import type { Platform } from "../../services/platforms.ts";
import type { Subscription } from "../../services/subscriptions/presentation.ts";
import type { UsageSnapshot } from "../../services/usage/current-usage.ts";
import type { DailyUsage } from "../../services/usage/daily-usage.ts";
import { type EndpointView, EventsSection, WebhooksSection } from "./events.tsx";
import { ActionForm, errorsFor, Field, FormMessage, type FormProblem } from "./fields.tsx";
import { InvoiceDocuments, invoicePath } from "./invoice.tsx";
import {
  Chart,
  type ChartData,
  day,
  FormGuard,
  instant,
  Layout,
  Money,
  type PageContext,
  Status,
} from "./layout.tsx";

export type { FormProblem };

export interface PlatformView {
  platform: Platform;
  subscription: Subscription | null;
  usage: UsageSnapshot | null;
  daily: DailyUsage | null;
  invoices: Page<Invoice>;
  paymentMethods: Page<PaymentMethod>;
  ledger: Awaited<ReturnType<typeof customerBalanceLedger>>;
  apiKeys: Awaited<ReturnType<typeof listApiKeys>>;
  plans: readonly Plan[];
  /** Issued credit notes of the listed invoices, by invoice id. */
  creditNotes: Map<string, CreditNote[]>;
  events: Page<Event>;
  endpoints: EndpointView[];
}

const notices: Record<string, string> = {
  "credit-applied": "Credit applied.",
  "tier-changed": "Tier changed.",
  canceled: "The subscription will cancel at the end of its period.",
  "trial-started": "Trial started.",
  overridden: "Subscription overridden.",
  "key-revoked": "API key revoked.",
  "key-created": "API key created. Its secret was shown once and is not shown again.",
  "webhook-created": "Webhook endpoint added. Its secret was shown once and is not shown again.",
  "webhook-rotated": "Signing secret rotated. The new one was shown once and is not shown again.",
  "webhook-disabled": "Webhook endpoint disabled.",
  "webhook-enabled": "Webhook endpoint enabled.",
  "webhook-deleted": "Webhook endpoint deleted.",
  "webhook-pinged": "Test ping queued.",
};

/** The daily usage as chart points: one series per meter, one point per UTC day. */
export const usageChartData = (daily: DailyUsage): ChartData => {
  const meters = [...new Set(daily.days.flatMap((d) => Object.keys(d.meters)))].sort();
  return {
    x: daily.days.map((d) => Date.parse(`${d.date}T00:00:00Z`) / 1000),
    series: meters.map((meter) => ({
      label: meter,
      values: daily.days.map((d) => d.meters[meter] ?? 0),
    })),
  };
};

export const PlatformPage = ({
  page,
  view,
  notice,
  problem,
  newKey,
  newSecret,
}: {
  page: PageContext;
  view: PlatformView;
  notice?: string | undefined;
  problem?: FormProblem | undefined;
  newKey?: { id: string; key: string } | undefined;
  newSecret?: { endpointId: string; secret: string } | undefined;
}) => {
  const { platform, subscription: sub, usage, daily, ledger } = view;
  const base = `/console/platforms/${encodeURIComponent(platform.platformId)}`;
  const currency = sub?.currency ?? Object.keys(ledger.balances)[0] ?? "usd";
  return (
    <Layout title={platform.name} active="platforms" page={page}>
      <h1>
        {platform.name} <span class="muted">{platform.platformId}</span>
      </h1>
      {notice && notices[notice] ? (
        <p class="notice" role="status">
          {notices[notice]}
        </p>
      ) : null}
      {newKey ? (
        <div class="notice" role="status" data-testid="new-key">
          <p>
            New API key <code>{newKey.id}</code>. Copy its secret now: it is shown only this once.
          </p>
          <p class="secret">{newKey.key}</p>
        </div>
      ) : null}
      <dl class="facts">
        <dt>Email</dt>
        <dd>{platform.email}</dd>
        <dt>Customer</dt>
        <dd>{platform.customerId ?? ""}</dd>
        <dt>Created</dt>
        <dd>{instant(platform.createdAt)}</dd>
      </dl>

      <h2 id="subscription">Subscription</h2>
      {sub ? (
        <section class="card">
          <dl class="facts" data-testid="subscription">
            <dt>Tier</dt>
            <dd data-testid="tier">{sub.tier}</dd>
            <dt>Price</dt>
            <dd>
              <Money amount={sub.unitAmount * sub.quantity} currency={sub.currency} /> per{" "}
              {sub.interval}
              {sub.quantity > 1 ? ` (${sub.quantity} × ${sub.unitAmount})` : ""}
            </dd>
            <dt>Period</dt>
            <dd>
              {instant(sub.currentPeriodStart)} to {instant(sub.currentPeriodEnd)}
            </dd>
            <dt>Status</dt>
            <dd>
              <Status value={sub.status} />
            </dd>
            <dt>Trial end</dt>
            <dd>{sub.trialEnd ? instant(sub.trialEnd) : "none"}</dd>
            <dt>Cancels at period end</dt>
            <dd>{sub.cancelAtPeriodEnd ? "yes" : "no"}</dd>
          </dl>
          <div class="grid2">
            <form method="get" action={`${base}/change-tier`} class="inline">
              <label for="change-tier">
                Change tier to
                <select id="change-tier" name="tier">
                  {view.plans
                    .filter((p) => p.tier !== sub.tier)
                    .map((p) => (
                      <option value={p.tier}>{p.name}</option>
                    ))}
                </select>
              </label>
              <button type="submit">Preview proration</button>
            </form>
            <form method="post" action={`${base}/trial`} class="inline">
              <FormGuard page={page} />
              <Field
                form="trial"
                name="trialDays"
                label="Trial days"
                problem={errorsFor(problem, "trial")}
                type="number"
                min="1"
                required
              />
              <button type="submit" class="secondary">
                Start trial
              </button>
              <FormMessage problem={errorsFor(problem, "trial")} />
            </form>
            <form method="post" action={`${base}/override`} class="inline">
              <FormGuard page={page} />
              <label for="override-planTier">
                Override tier (no proration)
                <select id="override-planTier" name="planTier">
                  <option value="">keep {sub.tier}</option>
                  {view.plans.map((p) => (
                    <option value={p.tier}>{p.name}</option>
                  ))}
                </select>
              </label>
              <Field
                form="override"
                name="trialEnd"
                label="Trial end (YYYY-MM-DD, optional)"
                problem={errorsFor(problem, "override")}
                type="date"
              />
              <button type="submit" class="secondary">
                Override
              </button>
              <FormMessage problem={errorsFor(problem, "override")} />
            </form>
            <ActionForm
              page={page}
              action={`${base}/cancel`}
              label="Cancel at period end"
              kind="danger"
              confirm="Cancel this subscription at the end of its period?"
              disabled={sub.cancelAtPeriodEnd}
              problem={errorsFor(problem, "cancel")}
            />
          </div>
        </section>
      ) : (
        <p class="muted">No live subscription.</p>
      )}

      <h2 id="usage">Usage this period</h2>
      {usage ? (
        <>
          <div class="scroll">
            <table data-testid="usage">
              <thead>
                <tr>
                  <th scope="col">Meter</th>
                  <th scope="col" class="num">
                    Used
                  </th>
                  <th scope="col" class="num">
                    Included
                  </th>
                  <th scope="col" class="num">
                    % used
                  </th>
                  <th scope="col" class="num">
                    Overage
                  </th>
                </tr>
              </thead>
              <tbody>
                {usage.meters.map((m) => (
                  <tr>
                    <td>{m.meter}</td>
                    <td class="num">
                      {m.value.toLocaleString("en")} {m.unit}
                    </td>
                    <td class="num">{m.included.toLocaleString("en")}</td>
                    <td class="num">{m.percentUsed} %</td>
                    <td class="num">{m.overage.toLocaleString("en")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {daily ? (
            <Chart
              name="usage"
              caption={`Daily usage per meter, ${daily.from} to ${daily.to}`}
              data={usageChartData(daily)}
            />
          ) : null}
        </>
      ) : (
        <p class="muted">No usage.</p>
      )}

      <h2 id="invoices">Invoices</h2>
      <div class="scroll">
        <table data-testid="invoices">
          <thead>
            <tr>
              <th scope="col">Number</th>
              <th scope="col">Status</th>
              <th scope="col">Lines</th>
              <th scope="col" class="num">
                Total
              </th>
              <th scope="col" class="num">
                Due
              </th>
              <th scope="col" class="num">
                Paid
              </th>
              <th scope="col">Created</th>
              <th scope="col">Documents</th>
            </tr>
          </thead>
          <tbody>
            {view.invoices.data.map((inv) => (
              <tr data-invoice={inv.id}>
                <td>
                  <a href={invoicePath(inv.id)}>{inv.number ?? "draft"}</a>
                </td>
                <td>
                  <Status value={inv.status} />
                </td>
                <td>{[...new Set(inv.lines.map((l) => l.type))].join(", ")}</td>
                <td class="num">
                  <Money amount={inv.total} currency={inv.currency} />
                </td>
                <td class="num">
                  <Money amount={inv.amountDue} currency={inv.currency} />
                </td>
                <td class="num">
                  <Money amount={inv.amountPaid} currency={inv.currency} />
                </td>
                <td>{day(inv.createdAt)}</td>
                <td>
                  <InvoiceDocuments invoice={inv} notes={view.creditNotes.get(inv.id)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {view.invoices.hasMore ? (
        <p>
          <a href={`/console/invoices?platformId=${encodeURIComponent(platform.platformId)}`}>
            All invoices
          </a>
        </p>
      ) : null}

      <div class="grid2">
        <section>
          <h2 id="payment-methods">Payment methods</h2>
          {view.paymentMethods.data.length === 0 ? (
            <p class="muted">None on file.</p>
          ) : (
            <ul>
              {view.paymentMethods.data.map((pm) => (
                <li>
                  {pm.card
                    ? `${pm.card.brand} •••• ${pm.card.last4}, ${pm.card.expMonth}/${pm.card.expYear}`
                    : pm.type}{" "}
                  <span class="muted">{pm.id}</span>
                  {pm.isDefault ? " (default)" : ""}
                </li>
              ))}
            </ul>
          )}
        </section>
        <section>
          <h2 id="balance">Balance</h2>
          <p data-testid="balance">
            {Object.keys(ledger.balances).length === 0 ? (
              <Money amount={0} currency={currency} />
            ) : (
              Object.entries(ledger.balances).map(([c, amount]) => (
                <Money amount={amount} currency={c} />
              ))
            )}{" "}
            <span class="muted">credit</span>
          </p>
          <form method="post" action={`${base}/credits`} class="inline">
            <FormGuard page={page} />
            <Field
              form="credit"
              name="amount"
              label={`Amount (${currency.toUpperCase()}, e.g. 12.50)`}
              problem={errorsFor(problem, "credit")}
              inputmode="decimal"
              required
            />
            <input type="hidden" name="currency" value={currency} />
            <Field
              form="credit"
              name="description"
              label="Description"
              problem={errorsFor(problem, "credit")}
              maxlength={500}
              required
            />
            <button type="submit">Apply credit</button>
            <FormMessage problem={errorsFor(problem, "credit")} />
          </form>
          <div class="scroll">
            <table data-testid="ledger">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Description</th>
                  <th scope="col" class="num">
                    Amount
                  </th>
                </tr>
              </thead>
              <tbody>
                {ledger.entries.data.map((e) => (
                  <tr>
                    <td>{day(e.createdAt)}</td>
                    <td>{e.kind.replace(/_/g, " ")}</td>
                    <td>{e.description}</td>
                    <td class="num">
                      <Money amount={e.amount} currency={e.currency} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      </div>

      <h2 id="api-keys">API keys</h2>
      <form method="post" action={`${base}/api-keys`} class="inline">
        <FormGuard page={page} />
        <label for="api-key-scope">
          Scope
          <select id="api-key-scope" name="scope">
            <option value="platform">platform (the platform's own data)</option>
            <option value="usage:write">usage:write (ingest usage only)</option>
          </select>
        </label>
        <button type="submit">Create API key</button>
        <FormMessage problem={errorsFor(problem, "api-key")} />
      </form>
      <div class="scroll">
        <table data-testid="api-keys">
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Prefix</th>
              <th scope="col">Scopes</th>
              <th scope="col">Created</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {view.apiKeys.map((k) => (
              <tr data-key={k.id}>
                <td>{k.id}</td>
                <td>
                  <code>{k.prefix}…</code>
                </td>
                <td>{k.scopes.join(", ")}</td>
                <td>{day(k.createdAt)}</td>
                <td>
                  {k.revokedAt ? (
                    `revoked ${day(k.revokedAt)}`
                  ) : (
                    <ActionForm
                      page={page}
                      action={`${base}/api-keys/${encodeURIComponent(k.id)}/revoke`}
                      label="Revoke"
                      kind="danger"
                      ariaLabel={`Revoke ${k.id}`}
                      confirm="Revoke this key? Requests with it will be refused."
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <EventsSection base={base} events={view.events} />

      <WebhooksSection
        page={page}
        base={base}
        endpoints={view.endpoints}
        problem={problem}
        newSecret={newSecret}
      />
    </Layout>
  );
};
