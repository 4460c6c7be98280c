import { html, raw } from "hono/html";
import { formatMinor } from "../../billing/money.ts";
import type { DocumentModel, DocumentParty } from "../../documents/document-model.ts";
import { HOSTED_PAGE_CSS } from "../../documents/hosted-page-style.ts";

const party = (heading: string, p: DocumentParty) => html`<div>
  <h2>${heading}</h2>
  <p data-party="${heading}">
    <strong>${p.name}</strong>${p.lines.map((l) => html`<br />${l}`)}${
      p.email ? html`<br />${p.email}` : ""
    }${p.taxId ? html`<br />Tax ID: ${p.taxId}` : ""}
  </p>
</div>`;

/**
 * The hosted page of an invoice or credit note, rendered on the server from the same model as
 * the PDF. Every value goes through hono's `html` template, which escapes it; the page has no
 * script, loads nothing, and its one style block is allowed by hash. Links are relative to the
 * page, so it works under `/` and `/api/billing` alike.
 */
export const renderHostedPage = (
  model: DocumentModel,
  opts: { token: string; payable: boolean },
) => {
  const money = (amount: number) => formatMinor(amount, model.currency);
  const facts = [
    { label: "Number", value: model.number },
    { label: "Issued", value: model.issuedOn },
    ...(model.dueOn ? [{ label: "Due", value: model.dueOn }] : []),
    ...model.facts,
  ];
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<meta name="robots" content="noindex" />
<title>${model.title} ${model.number} — ${model.seller.name}</title>
<style>${raw(HOSTED_PAGE_CSS)}</style>
</head>
<body>
<main>
  <header>
    <div>
      ${
        model.seller.logo
          ? html`<img alt="${model.seller.name}" src="data:${model.seller.logo.mimeType};base64,${model.seller.logo.bytes.toString("base64")}" />`
          : ""
      }
      <strong>${model.seller.name}</strong>
    </div>
    <div>
      <h1>${model.title} <span data-field="number">${model.number}</span></h1>
      <span class="status" data-field="status">${model.status}</span>
    </div>
  </header>
  <section class="parties">
    ${party("From", model.seller)}
    ${party(model.kind === "invoice" ? "Bill to" : "Credited to", model.buyer)}
  </section>
  <dl class="facts">
    ${facts.map((f) => html`<dt>${f.label}</dt><dd>${f.value}</dd>`)}
  </dl>
  <table>
    <thead><tr><th>Description</th><th class="num">Qty</th><th class="num">Unit price</th><th class="num">Amount</th></tr></thead>
    <tbody>
      ${model.lines.map(
        (l) => html`<tr data-line>
        <td>${l.description}${l.period ? html`<span class="period">${l.period}</span>` : ""}</td>
        <td class="num">${l.quantity ?? ""}</td>
        <td class="num">${l.unitAmount === null ? "" : money(l.unitAmount)}</td>
        <td class="num" data-field="amount">${money(l.amount)}</td>
      </tr>`,
      )}
    </tbody>
  </table>
  <table class="totals">
    ${model.totals.map(
      (t) =>
        html`<tr class="${t.strong ? "strong" : ""}" data-total="${t.label}"><td>${t.label}</td><td class="num">${money(t.amount)}</td></tr>`,
    )}
  </table>
  ${
    model.creditNotes.length > 0
      ? html`<h2>Credit notes</h2>
  <table>
    <tbody>
      ${model.creditNotes.map(
        (n) => html`<tr data-credit-note="${n.number}">
        <td>${n.url ? html`<a href="../credit-notes/${n.url.split("/").at(-1) ?? ""}">${n.number}</a>` : n.number}</td>
        <td>${n.issuedOn}</td>
        <td class="num">-${money(n.amount)}</td>
      </tr>`,
      )}
    </tbody>
  </table>`
      : ""
  }
  ${model.memo ? html`<p class="memo">Memo: ${model.memo}</p>` : ""}
  <nav class="actions">
    <a href="${opts.token}/pdf" download="${model.number}.pdf">Download PDF</a>
    ${opts.payable ? html`<a class="secondary" href="${opts.token}/portal">Update payment method</a>` : ""}
  </nav>
</main>
</body>
</html>`;
};
