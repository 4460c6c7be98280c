import { voidOpenInvoice } from "../../../services/corrections/invoice-corrections.ts";
import { invoiceAction } from "./invoice-action.ts";

export const { route, handler } = invoiceAction({
  action: "void",
  operationId: "voidInvoice",
  summary: "Void an open invoice (collection stops, consumed credit returns to the balance)",
  run: voidOpenInvoice,
});
