import type { Context } from "hono";
import type { PdfFile } from "../../services/documents/documents.ts";

/** A PDF response: inline, named after the document's number, never cached by shared caches. */
export const pdfBody = (c: Context, file: PdfFile) =>
  c.body(new Uint8Array(file.bytes), 200, {
    "content-type": "application/pdf",
    "content-disposition": `inline; filename="${file.filename}"`,
    "cache-control": "private, no-store",
  });
