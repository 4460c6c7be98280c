import type { BalanceEntryRow } from "../../db/schema/index.ts";
import type { CreditNote } from "../credit-notes/present-credit-note.ts";
import type { Customer } from "../customers.ts";
import type { Invoice } from "../invoicing.ts";
import type { PaymentMethod } from "../payment-methods.ts";
import type { Subscription } from "../subscriptions/presentation.ts";
import type { UsageAlert } from "../usage/usage-alerts.ts";

/**
 * The event catalog: every event type the service emits, the object its `data.object` carries
 * (produced by the same presentation function as the API route that returns that object) and
 * what it means. The README lists it with an example payload per type; other areas add their
 * types here and call `recordEvent` inside the transaction of their change.
 */

/** The customer's credit balance after a change of its ledger. */
export interface CustomerBalance {
  customerId: string;
  platformId: string | null;
  currency: string;
  /** Credit available, in minor units (positive: the customer has credit). */
  balance: number;
  /** The change that moved it, in minor units. */
  amount: number;
  reason: BalanceEntryRow["kind"];
}

/** A webhook endpoint as `GET /webhook-endpoints/{id}` returns it (no secret). */
export interface WebhookEndpointObject {
  id: string;
  platformId: string | null;
  url: string;
  enabledEvents: string[];
  description: string | null;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
}

/** A refund of a credit note through the processor (`refund.created`, `refund.failed`). */
export interface RefundObject {
  /** The processor's refund id; null when the processor refused it. */
  id: string | null;
  creditNoteId: string;
  invoiceId: string;
  platformId: string | null;
  customerId: string;
  currency: string;
  amount: number;
  status: "succeeded" | "failed";
  /** Why the processor refused it (`refund.failed`). */
  failureMessage: string | null;
}

/** The object each event type carries in `data.object`. */
export interface EventObjects {
  "customer.created": Customer;
  "customer.updated": Customer;
  "customer.balance_changed": CustomerBalance;
  "customer.default_payment_method_changed": Customer;
  "payment_method.attached": PaymentMethod;
  "payment_method.detached": PaymentMethod;
  "subscription.created": Subscription;
  "subscription.updated": Subscription;
  "subscription.trial_will_end": Subscription;
  "subscription.canceled": Subscription;
  "invoice.created": Invoice;
  "invoice.finalized": Invoice;
  "invoice.paid": Invoice;
  "invoice.payment_failed": Invoice & {
    /** Why the last attempt failed: the processor's decline code (or ours). */
    failure: { code: string | null; declineCode: string | null; message: string };
  };
  "invoice.voided": Invoice;
  "invoice.marked_uncollectible": Invoice;
  "credit_note.created": CreditNote;
  "refund.created": RefundObject;
  "refund.failed": RefundObject;
  "usage.alert.triggered": UsageAlert;
  "webhook_endpoint.disabled": WebhookEndpointObject;
  ping: { message: string; endpointId: string };
}

export type EventType = keyof EventObjects;

/** Every event type with what it means (the README's catalog; also the allowed `enabledEvents`). */
export const eventCatalog: Record<EventType, string> = {
  "customer.created": "A customer was created (with its platform, or by the operator).",
  "customer.updated": "A customer's email, name or metadata changed.",
  "customer.balance_changed":
    "The customer's credit balance moved: an operator credit, a downgrade's credit, or credit applied to (or returned from) an invoice.",
  "customer.default_payment_method_changed": "The customer's default card changed.",
  "payment_method.attached": "A card was attached to the customer.",
  "payment_method.detached": "A card was detached from the customer.",
  "subscription.created": "A subscription was created.",
  "subscription.updated":
    "A subscription's status, tier, price, quantity, interval, cancelAtPeriodEnd, trialEnd or pendingChange changed; `previousAttributes` has the old values.",
  "subscription.trial_will_end": "The trial ends in 3 days.",
  "subscription.canceled": "The subscription ended (status `canceled`).",
  "invoice.created": "An invoice was created.",
  "invoice.finalized":
    "An invoice got its number and is due (or paid at once when nothing is due).",
  "invoice.paid": "An invoice was paid.",
  "invoice.payment_failed":
    "A payment attempt failed; `failure` has the decline code, `nextPaymentAttempt` the next attempt (null: none).",
  "invoice.voided": "An invoice was voided.",
  "invoice.marked_uncollectible":
    "The operator marked an open invoice uncollectible: no more payment attempts (a new default card still pays it).",
  "credit_note.created":
    "A credit note was issued against an invoice (lowering an open invoice's amount due, or refunding and/or crediting a paid one).",
  "refund.created": "A credit note's refund went through at the processor.",
  "refund.failed": "The processor refused a credit note's refund; the credit note was not issued.",
  "usage.alert.triggered":
    "A meter reached 80 % or 100 % of its included quantity in the current period.",
  "webhook_endpoint.disabled":
    "Operator event: an endpoint that failed every delivery for 5 days was disabled.",
  ping: "Sent by `POST /webhook-endpoints/{id}/test` to that endpoint only (whatever its `enabledEvents`).",
};

export const eventTypes = Object.keys(eventCatalog) as EventType[];

/** The attributes whose old values `subscription.updated` reports. */
export const subscriptionTrackedAttributes = [
  "status",
  "tier",
  "priceId",
  "quantity",
  "interval",
  "cancelAtPeriodEnd",
  "trialEnd",
  "pendingChange",
] as const;
