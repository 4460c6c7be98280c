import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type Stripe from "stripe";
import type { InvoiceSummary } from "./api-handler.ts";
import { TEST_CARDS } from "./test-cards.ts";

/**
 * The billing portal page a portal session's `url` serves: plain server-rendered HTML with forms
 * (no scripts, nothing fetched from elsewhere). Every interpolation goes through `html`, which
 * escapes it. Rows carry `data-*` attributes so tests and scripts can read the page reliably.
 */
export interface PortalPageModel {
  /** The page's own path; forms post to paths under it. */
  pagePath: string;
  session: { id: string; return_url: string | null };
  customer: { id: string; email: string | null; name: string | null };
  defaultPaymentMethod: string | null;
  paymentMethods: Stripe.PaymentMethod[];
  /** Undefined when the emulator has no invoice source; null when it failed to answer. */
  invoices: InvoiceSummary[] | null | undefined;
  notice?: string;
  /** Why the customer's last action was refused, shown above everything else. */
  error?: string;
}

/** Minor units to a display amount, with the currency's own number of decimals (JPY has none). */
export const formatAmount = (minor: number, currency: string): string => {
  try {
    const format = new Intl.NumberFormat("en-US", {
      style: "currency",
      currency: currency.toUpperCase(),
    });
    const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    return format.format(minor / 10 ** digits);
  } catch {
    return `${minor} ${currency.toUpperCase()} (minor units)`;
  }
};

const brandNames: Record<string, string> = {
  visa: "Visa",
  mastercard: "Mastercard",
  amex: "American Express",
};

const styles = `
  body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 48rem; color: #1a1f36; }
  h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
  table { border-collapse: collapse; width: 100%; }
  td, th { text-align: left; padding: .5rem; border-bottom: 1px solid #e3e8ee; }
  .badge { background: #d7f7c2; color: #05690d; border-radius: 4px; padding: 0 .4rem; font-size: .8rem; }
  .notice { background: #fff4d6; padding: .5rem 1rem; border-radius: 4px; }
  .error { background: #ffe3e3; color: #a4000f; padding: .5rem 1rem; border-radius: 4px; }
  .hint { color: #697386; font-size: .85rem; }
  .emulator { color: #697386; font-size: .85rem; }
  form { display: inline; }
`;

const paymentMethodRow = (model: PortalPageModel, pm: Stripe.PaymentMethod) => {
  const isDefault = pm.id === model.defaultPaymentMethod;
  const card = pm.card;
  const brand = card ? (brandNames[card.brand] ?? card.brand) : pm.type;
  const base = `${model.pagePath}/payment-methods/${encodeURIComponent(pm.id)}`;
  return html`<tr data-payment-method="${pm.id}" data-brand="${card?.brand ?? ""}" data-last4="${card?.last4 ?? ""}" data-default="${isDefault ? "true" : "false"}">
      <td>${brand} •••• ${card?.last4 ?? ""}</td>
      <td>Expires ${card ? `${String(card.exp_month).padStart(2, "0")}/${card.exp_year}` : ""}</td>
      <td>${isDefault ? html`<span class="badge">Default</span>` : ""}</td>
      <td>
        ${
          isDefault
            ? html`<span class="hint">Make another card the default to remove this one.</span>`
            : html`<form method="post" action="${base}/default"><button type="submit">Make default</button></form>
        <form method="post" action="${base}/detach"><button type="submit">Remove</button></form>`
        }
      </td>
    </tr>`;
};

const invoicesSection = (invoices: PortalPageModel["invoices"]) => {
  if (invoices === undefined) return "";
  if (invoices === null) {
    return html`<h2>Invoices</h2><p>Invoices are unavailable right now.</p>`;
  }
  return html`<h2>Invoices</h2>
    ${
      invoices.length === 0
        ? html`<p>No invoices yet.</p>`
        : html`<table>
            <thead><tr><th>Number</th><th>Status</th><th>Amount</th><th>Date</th></tr></thead>
            <tbody>
              ${invoices.map(
                (invoice) => html`<tr data-invoice="${invoice.id}">
                  <td>${invoice.number ?? "Draft"}</td>
                  <td>${invoice.status}</td>
                  <td>${formatAmount(invoice.total, invoice.currency)}</td>
                  <td>${invoice.createdAt.slice(0, 10)}</td>
                </tr>`,
              )}
            </tbody>
          </table>`
    }`;
};

export const renderPortalPage = (
  model: PortalPageModel,
): HtmlEscapedString | Promise<HtmlEscapedString> => html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Billing portal</title>
    <style>${styles}</style>
  </head>
  <body>
    <p class="emulator">Stripe emulator · test mode</p>
    <h1>Billing for ${model.customer.name ?? model.customer.email ?? model.customer.id}</h1>
    ${model.customer.email ? html`<p>${model.customer.email}</p>` : ""}
    ${model.error ? html`<p class="error" role="alert">${model.error}</p>` : ""}
    ${model.notice ? html`<p class="notice" role="status">${model.notice}</p>` : ""}

    <h2>Payment methods</h2>
    ${
      model.paymentMethods.length === 0
        ? html`<p>No payment methods yet.</p>`
        : html`<table><tbody>${model.paymentMethods.map((pm) => paymentMethodRow(model, pm))}</tbody></table>`
    }

    <h2>Add a test card</h2>
    <form method="post" action="${model.pagePath}/payment-methods">
      <label for="token">Card</label>
      <select id="token" name="token">
        ${TEST_CARDS.map((card) => html`<option value="${card.token}">${card.label}</option>`)}
      </select>
      <button type="submit">Add card</button>
    </form>

    ${invoicesSection(model.invoices)}

    ${
      model.session.return_url && /^https?:\/\//i.test(model.session.return_url)
        ? html`<p><a href="${model.session.return_url}" data-return-url>Return to the application</a></p>`
        : ""
    }
  </body>
</html>`;

/** An expired session's page: what happened, and the way back to get a new one. */
export const renderPortalExpired = (returnUrl: string | null) => html`<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>Billing portal</title></head>
  <body>
    <h1>Billing portal</h1>
    <p role="alert">This billing portal session has expired. Return to the application and open the billing portal again.</p>
    ${
      returnUrl && /^https?:\/\//i.test(returnUrl)
        ? html`<p><a href="${returnUrl}" data-return-url>Return to the application</a></p>`
        : ""
    }
  </body>
</html>`;

export const renderPortalError = (message: string) => html`<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>Billing portal</title></head>
  <body><h1>Billing portal</h1><p role="alert">${message}</p></body>
</html>`;
