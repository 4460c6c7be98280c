/**
 * What an invoice or credit note document shows, independent of how it is drawn: the hosted page
 * (`routes/documents/hosted-page.ts`) and the PDF (`invoice-pdf.ts`) render the same model, so
 * they show the same figures. Built by `services/documents/document-model.ts`.
 */
export interface DocumentParty {
  name: string;
  lines: string[];
  email: string | null;
  taxId: string | null;
}

export interface DocumentLine {
  description: string;
  /** "2026-01-15 – 2026-02-15", or null for a line without a period. */
  period: string | null;
  quantity: number | null;
  unitAmount: number | null;
  amount: number;
}

export interface DocumentTotal {
  label: string;
  amount: number;
  /** The figure that matters most (total, amount remaining): drawn bold. */
  strong?: boolean;
}

export interface DocumentModel {
  kind: "invoice" | "credit_note";
  /** "Invoice" or "Credit note". */
  title: string;
  number: string;
  status: string;
  currency: string;
  issuedOn: string;
  dueOn: string | null;
  seller: DocumentParty & {
    logo: { bytes: Buffer; mimeType: "image/png" | "image/jpeg" } | undefined;
  };
  buyer: DocumentParty;
  /** Further facts shown under the dates ("Billing period", "Reason", "Corrects invoice"). */
  facts: Array<{ label: string; value: string }>;
  lines: DocumentLine[];
  totals: DocumentTotal[];
  /** The credit notes against an invoice. */
  creditNotes: Array<{ number: string; issuedOn: string; amount: number; url: string | null }>;
  memo: string | null;
  /** When the PDF was first made possible (finalization / issue): its fixed dates and ID. */
  documentDate: Date;
}

/** `YYYY-MM-DD` in UTC, as every date in the API. */
export const isoDay = (d: Date) => d.toISOString().slice(0, 10);
