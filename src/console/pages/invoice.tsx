/** @jsxImportSource hono/jsx */
import { creditNoteReasons } from "../../services/credit-notes/create-credit-note.ts";
import type { CreditNote } from "../../services/credit-notes/present-credit-note.ts";
import type { Invoice } from "../../services/invoicing.ts";
import { ActionForm, errorsFor, Field, FormMessage, type FormProblem } from "./fields.tsx";
import {
  day,
  FieldError,
  FormGuard,
  instant,
  Layout,
  Money,
  type PageContext,
  Status,
} from "./layout.tsx";

export const invoicePath = (invoiceId: string) =>
  `/console/invoices/${encodeURIComponent(invoiceId)}`;

/**
 * A finalized invoice's documents: its hosted page and PDF (no link for a draft or a revoked
 * link), and the credit notes against it (number, amount, hosted page).
 */
export const InvoiceDocuments = ({
  invoice,
  notes,
}: {
  invoice: { id: string; number: string | null; hostedInvoiceUrl: string | null };
  notes: CreditNote[] | undefined;
}) => (
  <>
    {invoice.hostedInvoiceUrl ? (
      <span class="links">
        <a
          href={invoice.hostedInvoiceUrl}
          aria-label={`Hosted page of ${invoice.number ?? invoice.id}`}
        >
          Hosted page
        </a>{" "}
        <a
          href={`${invoice.hostedInvoiceUrl}/pdf`}
          aria-label={`PDF of ${invoice.number ?? invoice.id}`}
        >
          PDF
        </a>
      </span>
    ) : (
      <span class="muted">none</span>
    )}
    {notes && notes.length > 0 ? (
      <ul class="credit-notes" data-testid="credit-notes">
        {notes.map((n) => (
          <li data-credit-note={n.id}>
            {n.hostedUrl ? <a href={n.hostedUrl}>{n.number ?? n.id}</a> : (n.number ?? n.id)}{" "}
            <Money amount={n.amount} currency={n.currency} />
          </li>
        ))}
      </ul>
    ) : null}
  </>
);

const notices: Record<string, string> = {
  voided: "Invoice voided.",
  uncollectible: "Invoice marked uncollectible.",
  "credit-note": "Credit note issued.",
};

/** One invoice for the operator: amounts, documents, credit notes, and its corrections. */
export const InvoicePage = ({
  page,
  invoice,
  notes,
  notice,
  problem,
}: {
  page: PageContext;
  invoice: Invoice;
  notes: CreditNote[];
  notice?: string | undefined;
  problem?: FormProblem | undefined;
}) => {
  const base = invoicePath(invoice.id);
  const creditable = invoice.status === "open" || invoice.status === "paid";
  const credit = errorsFor(problem, "credit-note");
  const reasonError = credit?.fields.reason;
  return (
    <Layout title={`Invoice ${invoice.number ?? invoice.id}`} active="invoices" page={page}>
      <h1>
        Invoice {invoice.number ?? <span class="muted">draft</span>}{" "}
        <span class="muted">{invoice.id}</span>
      </h1>
      {notice && notices[notice] ? (
        <p class="notice" role="status">
          {notices[notice]}
        </p>
      ) : null}
      <dl class="facts" data-testid="invoice">
        <dt>Status</dt>
        <dd data-testid="invoice-status">
          <Status value={invoice.status} />
        </dd>
        <dt>Platform</dt>
        <dd>
          {invoice.platformId ? (
            <a href={`/console/platforms/${encodeURIComponent(invoice.platformId)}`}>
              {invoice.platformId}
            </a>
          ) : (
            <span class="muted">none</span>
          )}
        </dd>
        <dt>Total</dt>
        <dd>
          <Money amount={invoice.total} currency={invoice.currency} />
        </dd>
        <dt>Due</dt>
        <dd>
          <Money amount={invoice.amountDue} currency={invoice.currency} />
        </dd>
        <dt>Paid</dt>
        <dd>
          <Money amount={invoice.amountPaid} currency={invoice.currency} />
        </dd>
        <dt>Credited</dt>
        <dd>
          <Money amount={invoice.amountCredited} currency={invoice.currency} />
        </dd>
        <dt>Period</dt>
        <dd>
          {day(invoice.periodStart)} – {day(invoice.periodEnd)}
        </dd>
        <dt>Finalized</dt>
        <dd>{invoice.finalizedAt ? instant(invoice.finalizedAt) : ""}</dd>
        <dt>Documents</dt>
        <dd>
          <InvoiceDocuments invoice={invoice} notes={notes} />
        </dd>
      </dl>

      {invoice.status === "open" ? (
        <section class="card">
          <h2 id="corrections">Stop collecting</h2>
          <div class="grid2">
            <ActionForm
              page={page}
              action={`${base}/void`}
              label="Void"
              kind="danger"
              confirm="Void this invoice? Collection stops and its credit returns to the balance."
              problem={errorsFor(problem, "void")}
            />
            <ActionForm
              page={page}
              action={`${base}/uncollectible`}
              label="Mark uncollectible"
              confirm="Mark this invoice uncollectible? No further payment attempt is made."
              problem={errorsFor(problem, "uncollectible")}
            />
          </div>
        </section>
      ) : null}

      {creditable ? (
        <section class="card">
          <h2 id="credit-note">Credit note</h2>
          <p class="muted">
            Amounts in minor units ({invoice.currency.toUpperCase()} cents: 1250 is{" "}
            <Money amount={1250} currency={invoice.currency} />
            ).{" "}
            {invoice.status === "open"
              ? "On an open invoice the note lowers the amount due."
              : "On a paid invoice it is refunded to the card and/or credited to the balance; left empty, as much as possible is refunded."}
          </p>
          <form method="post" action={`${base}/credit-notes`} class="inline">
            <FormGuard page={page} />
            <Field
              form="credit-note"
              name="amount"
              label="Amount"
              problem={credit}
              inputmode="numeric"
              required
            />
            <label for="credit-note-reason">
              Reason
              <select
                id="credit-note-reason"
                name="reason"
                aria-invalid={reasonError ? "true" : undefined}
                aria-describedby={reasonError ? "credit-note-reason-error" : undefined}
              >
                {creditNoteReasons.map((r) => (
                  <option value={r}>{r.replace(/_/g, " ")}</option>
                ))}
              </select>
              <FieldError id="credit-note-reason-error" message={reasonError} />
            </label>
            {invoice.status === "paid" ? (
              <>
                <Field
                  form="credit-note"
                  name="refundAmount"
                  label="Refund amount (optional)"
                  problem={credit}
                  inputmode="numeric"
                />
                <Field
                  form="credit-note"
                  name="creditAmount"
                  label="Balance credit amount (optional)"
                  problem={credit}
                  inputmode="numeric"
                />
              </>
            ) : null}
            <Field
              form="credit-note"
              name="memo"
              label="Memo (optional)"
              problem={credit}
              maxlength={1000}
            />
            <button type="submit">Issue credit note</button>
            <FormMessage problem={credit} />
          </form>
        </section>
      ) : null}
    </Layout>
  );
};
