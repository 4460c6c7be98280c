import { z } from "@hono/zod-openapi";
import { creditNoteReasons } from "../services/credit-notes/create-credit-note.ts";
import { Id } from "./schemas.ts";

const Money = z.number().int().openapi({ description: "integer minor units", example: 9900 });
const PositiveMoney = z.number().int().min(1).max(99_999_999_999);

const regionNames = new Intl.DisplayNames(["en"], { type: "region", fallback: "none" });

/**
 * An assigned ISO 3166-1 alpha-2 code, as the ICU data bundled with Node knows them: unassigned
 * and user-assigned codes have no name (ZZ is "Unknown Region").
 */
/** Names ICU has that are not countries: unknown, and ISO's "exceptionally reserved" unions. */
const notCountries = new Set(["ZZ", "EU", "EZ", "UN"]);

const isAssignedRegion = (code: string) => {
  const upper = code.toUpperCase();
  const name = regionNames.of(upper);
  return name !== undefined && name !== upper && !notCountries.has(upper);
};

const line = z.string().trim().min(1).max(200);

/** A postal address as printed on documents; `country` is ISO 3166-1 alpha-2. */
export const AddressSchema = z
  .object({
    line1: line,
    line2: line.optional(),
    city: line,
    postalCode: z.string().trim().min(1).max(20),
    state: line.optional(),
    country: z
      .string()
      .regex(/^[A-Za-z]{2}$/, "an ISO 3166-1 alpha-2 country code")
      .refine(isAssignedRegion, "not an assigned ISO 3166-1 alpha-2 country code")
      .transform((c) => c.toUpperCase())
      .openapi({ example: "US" }),
  })
  .strict()
  .openapi("Address");

export const TaxIdSchema = z
  .string()
  .trim()
  .min(2)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9 .\-/]*$/, "letters, digits, spaces, '.', '-' and '/'")
  .openapi({ example: "DE123456789" });

export const CreditNoteReasonSchema = z.enum(creditNoteReasons);

export const CreateCreditNoteBody = z
  .object({
    invoiceId: Id,
    lines: z
      .array(z.object({ invoiceLineId: Id, amount: PositiveMoney }).strict())
      .min(1)
      .max(500)
      .optional(),
    amount: PositiveMoney.optional(),
    reason: CreditNoteReasonSchema,
    refundAmount: z.number().int().min(0).max(99_999_999_999).optional(),
    creditAmount: z.number().int().min(0).max(99_999_999_999).optional(),
    memo: z.string().max(1000).optional(),
  })
  .strict()
  .refine((b) => b.lines !== undefined || b.amount !== undefined, {
    message: "give `amount` or `lines`",
    path: ["amount"],
  })
  .openapi("CreateCreditNoteRequest");

export const CreditNoteSchema = z
  .object({
    id: z.string().openapi({ example: "cn_..." }),
    number: z.string().nullable().openapi({ example: "NNO-CN-000001" }),
    status: z.enum(["pending", "issued"]),
    invoiceId: z.string(),
    platformId: z.string().nullable(),
    customerId: z.string(),
    reason: CreditNoteReasonSchema,
    memo: z.string().nullable(),
    currency: z.string(),
    amount: Money,
    refundAmount: Money.openapi({ description: "refunded to the card through the processor" }),
    creditAmount: Money.openapi({ description: "added to the customer balance" }),
    outOfBandAmount: Money.openapi({ description: "on an open invoice: amount due lowered by" }),
    refundId: z.string().nullable(),
    lines: z.array(
      z.object({
        id: z.string(),
        invoiceLineId: z.string(),
        description: z.string(),
        amount: Money,
      }),
    ),
    hostedUrl: z.string().nullable(),
    createdAt: z.string(),
    issuedAt: z.string().nullable(),
  })
  .openapi("CreditNote");

export const TokenParam = z.object({
  token: z
    .string()
    .regex(/^[0-9A-Za-z]{20,64}$/)
    .openapi({ param: { name: "token", in: "path" } }),
});

export const pdfResponse = (description: string) => ({
  content: { "application/pdf": { schema: z.string().openapi({ format: "binary" }) } },
  description,
});

export const htmlResponse = (description: string) => ({
  content: { "text/html": { schema: z.string() } },
  description,
});
