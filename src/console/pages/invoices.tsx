/** @jsxImportSource hono/jsx */
import {
  type InvoiceFilter,
  type InvoiceListing,
  invoiceStatuses,
} from "../../services/console/invoice-search.ts";
import type { CreditNote } from "../../services/credit-notes/present-credit-note.ts";
import type { Page } from "../../services/pagination.ts";
import { InvoiceDocuments, invoicePath } from "./invoice.tsx";
import { day, FieldError, Layout, Money, type PageContext, Status } from "./layout.tsx";

export const InvoicesPage = ({
  page,
  filter,
  list,
  creditNotes,
  errors,
}: {
  page: PageContext;
  filter: InvoiceFilter;
  list: Page<InvoiceListing>;
  creditNotes?: Map<string, CreditNote[]> | undefined;
  errors: Record<string, string>;
}) => {
  const query = Object.fromEntries(
    Object.entries(filter).filter(
      (e): e is [string, string] => typeof e[1] === "string" && e[1] !== "",
    ),
  );
  return (
    <Layout title="Invoices" active="invoices" page={page}>
      <h1>Invoices{filter.platformId ? ` of ${filter.platformId}` : ""}</h1>
      <form method="get" action="/console/invoices" class="inline">
        {filter.platformId ? (
          <input type="hidden" name="platformId" value={filter.platformId} />
        ) : null}
        <label for="number">
          Number
          <input
            id="number"
            name="number"
            type="search"
            value={filter.number ?? ""}
            placeholder="NNO-000123"
            maxlength={40}
          />
        </label>
        <label for="status">
          Status
          <select id="status" name="status">
            <option value="">any</option>
            {invoiceStatuses.map((s) => (
              <option value={s} selected={filter.status === s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label for="from">
          Created from
          <input
            id="from"
            name="from"
            type="date"
            value={filter.from ?? ""}
            aria-describedby="from-error"
          />
          <FieldError id="from-error" message={errors.from} />
        </label>
        <label for="to">
          to
          <input
            id="to"
            name="to"
            type="date"
            value={filter.to ?? ""}
            aria-describedby="to-error"
          />
          <FieldError id="to-error" message={errors.to} />
        </label>
        <button type="submit">Filter</button>
        <button type="submit" class="secondary" formaction="/console/invoices.csv">
          Export CSV
        </button>
      </form>
      <p class="muted">
        The CSV export needs both dates (at most 366 days): one row per invoice, amounts in minor
        units and in major units.
      </p>
      <div class="scroll">
        <table data-testid="all-invoices">
          <thead>
            <tr>
              <th scope="col">Number</th>
              <th scope="col">Platform</th>
              <th scope="col">Status</th>
              <th scope="col">Kind</th>
              <th scope="col" class="num">
                Total
              </th>
              <th scope="col" class="num">
                Paid
              </th>
              <th scope="col">Period</th>
              <th scope="col">Created</th>
              <th scope="col">Documents</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((inv) => (
              <tr data-invoice={inv.id}>
                <td>
                  <a href={invoicePath(inv.id)}>{inv.number ?? "draft"}</a>
                </td>
                <td>
                  {inv.platformId ? (
                    <a href={`/console/platforms/${encodeURIComponent(inv.platformId)}`}>
                      {inv.platformId}
                    </a>
                  ) : null}
                </td>
                <td>
                  <Status value={inv.status} />
                </td>
                <td>{inv.kind}</td>
                <td class="num">
                  <Money amount={inv.total} currency={inv.currency} />
                </td>
                <td class="num">
                  <Money amount={inv.amountPaid} currency={inv.currency} />
                </td>
                <td>
                  {day(inv.periodStart)} – {day(inv.periodEnd)}
                </td>
                <td>{day(inv.createdAt)}</td>
                <td>
                  <InvoiceDocuments invoice={inv} notes={creditNotes?.get(inv.id)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.data.length === 0 ? <p class="muted">No invoice matches.</p> : null}
      <nav class="pager" aria-label="Pages">
        <a href={`/console/invoices?${new URLSearchParams(query)}`}>First page</a>
        {list.nextCursor ? (
          <a
            rel="next"
            href={`/console/invoices?${new URLSearchParams({ ...query, cursor: list.nextCursor })}`}
          >
            Next page
          </a>
        ) : null}
      </nav>
    </Layout>
  );
};
