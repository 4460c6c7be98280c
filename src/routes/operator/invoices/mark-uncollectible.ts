import { markInvoiceUncollectible } from "../../../services/corrections/invoice-corrections.ts";
import { invoiceAction } from "./invoice-action.ts";

export const { route, handler } = invoiceAction({
  action: "mark-uncollectible",
  operationId: "markInvoiceUncollectible",
  summary: "Mark an open invoice uncollectible (collection stops)",
  run: markInvoiceUncollectible,
});
