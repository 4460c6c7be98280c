import { rotateHostedInvoiceUrl } from "../../../services/documents/documents.ts";
import { invoiceAction } from "./invoice-action.ts";

export const { route, handler } = invoiceAction({
  action: "hosted-url/rotate",
  operationId: "rotateHostedInvoiceUrl",
  summary: "Revoke an invoice's hosted URL and issue a new one",
  run: rotateHostedInvoiceUrl,
});
