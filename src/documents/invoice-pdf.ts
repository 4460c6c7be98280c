import PDFDocument from "pdfkit";
import { formatMinor } from "../billing/money.ts";
import type { DocumentModel } from "./document-model.ts";

const PAGE = { width: 612, height: 792 } as const; // US Letter, points
const MARGIN = 50;
const CONTENT_WIDTH = PAGE.width - 2 * MARGIN;
const ROW_HEIGHT = 28;
const FOOTER_Y = PAGE.height - MARGIN + 10;
const BODY_BOTTOM = PAGE.height - MARGIN - 20;
const COLUMNS = {
  description: { x: MARGIN, width: 290 },
  quantity: { x: MARGIN + 295, width: 45 },
  unit: { x: MARGIN + 345, width: 75 },
  amount: { x: MARGIN + 425, width: CONTENT_WIDTH - 425 },
} as const;

/**
 * Renders a document model as a PDF in process with pdfkit's built-in fonts (no network, no
 * browser). Deterministic: the creation and modification dates (and so the file ID pdfkit derives
 * from them) are the document's own date, so the same document yields the same bytes. Every page
 * repeats the header and is numbered "Page i of n".
 */
export const renderDocumentPdf = (model: DocumentModel): Promise<Buffer> =>
  new Promise((resolvePdf, reject) => {
    const doc = new PDFDocument({
      size: [PAGE.width, PAGE.height],
      margin: MARGIN,
      bufferPages: true,
      autoFirstPage: false,
      info: {
        Title: `${model.title} ${model.number}`,
        Author: model.seller.name,
        Subject: `${model.title} ${model.number}`,
        Creator: "NNO Billing Service",
        Producer: "NNO Billing Service",
        CreationDate: model.documentDate,
        ModDate: model.documentDate,
      },
    });
    const chunks: Buffer[] = [];
    doc.on("data", (chunk: Buffer) => chunks.push(chunk));
    doc.on("end", () => resolvePdf(Buffer.concat(chunks)));
    doc.on("error", reject);
    try {
      draw(doc, model);
      doc.end();
    } catch (error) {
      reject(error);
    }
  });

const money = (model: DocumentModel, amount: number) => formatMinor(amount, model.currency);

type Doc = PDFKit.PDFDocument;

/** The header every page repeats: seller, document title and number. */
const drawHeader = (doc: Doc, model: DocumentModel): number => {
  let y = MARGIN;
  if (model.seller.logo) {
    doc.image(model.seller.logo.bytes, MARGIN, y, { fit: [120, 40] });
    y += 44;
  }
  doc.font("Helvetica-Bold").fontSize(16).fillColor("#111111");
  doc.text(model.seller.name, MARGIN, y, { width: CONTENT_WIDTH / 2, lineBreak: false });
  doc.fontSize(14).text(`${model.title} ${model.number}`, MARGIN + CONTENT_WIDTH / 2, y, {
    width: CONTENT_WIDTH / 2,
    align: "right",
    lineBreak: false,
  });
  y += 24;
  doc
    .moveTo(MARGIN, y)
    .lineTo(PAGE.width - MARGIN, y)
    .strokeColor("#999999")
    .stroke();
  return y + 10;
};

const drawParty = (
  doc: Doc,
  heading: string,
  party: DocumentModel["buyer"],
  x: number,
  y: number,
) => {
  doc.font("Helvetica-Bold").fontSize(9).fillColor("#555555").text(heading, x, y);
  doc.font("Helvetica").fontSize(10).fillColor("#111111");
  const lines = [
    party.name,
    ...party.lines,
    ...(party.email ? [party.email] : []),
    ...(party.taxId ? [`Tax ID: ${party.taxId}`] : []),
  ];
  let at = y + 13;
  for (const line of lines) {
    doc.text(line, x, at, { width: 240, lineBreak: false, ellipsis: true });
    at += 13;
  }
  return at;
};

const drawTableHeader = (doc: Doc, y: number): number => {
  doc.font("Helvetica-Bold").fontSize(9).fillColor("#555555");
  doc.text("Description", COLUMNS.description.x, y, { width: COLUMNS.description.width });
  doc.text("Qty", COLUMNS.quantity.x, y, { width: COLUMNS.quantity.width, align: "right" });
  doc.text("Unit price", COLUMNS.unit.x, y, { width: COLUMNS.unit.width, align: "right" });
  doc.text("Amount", COLUMNS.amount.x, y, { width: COLUMNS.amount.width, align: "right" });
  const below = y + 14;
  doc
    .moveTo(MARGIN, below)
    .lineTo(PAGE.width - MARGIN, below)
    .strokeColor("#cccccc")
    .stroke();
  return below + 6;
};

const draw = (doc: Doc, model: DocumentModel) => {
  const newPage = () => {
    doc.addPage();
    return drawHeader(doc, model);
  };
  let y = newPage();

  // Parties and dates, first page only.
  const sellerEnd = drawParty(doc, "From", model.seller, MARGIN, y);
  const buyerEnd = drawParty(
    doc,
    model.kind === "invoice" ? "Bill to" : "Credited to",
    model.buyer,
    MARGIN + 250,
    y,
  );
  y = Math.max(sellerEnd, buyerEnd) + 8;
  const facts = [
    { label: "Number", value: model.number },
    { label: "Status", value: model.status },
    { label: "Issued", value: model.issuedOn },
    ...(model.dueOn ? [{ label: "Due", value: model.dueOn }] : []),
    ...model.facts,
  ];
  doc.fontSize(10);
  for (const fact of facts) {
    doc
      .font("Helvetica-Bold")
      .fillColor("#555555")
      .text(`${fact.label}:`, MARGIN, y, { width: 110 });
    doc
      .font("Helvetica")
      .fillColor("#111111")
      .text(fact.value, MARGIN + 115, y, {
        width: CONTENT_WIDTH - 115,
        lineBreak: false,
        ellipsis: true,
      });
    y += 14;
  }
  y += 10;

  y = drawTableHeader(doc, y);
  for (const line of model.lines) {
    if (y + ROW_HEIGHT > BODY_BOTTOM) y = drawTableHeader(doc, newPage() + 4);
    doc.font("Helvetica").fontSize(10).fillColor("#111111");
    doc.text(line.description, COLUMNS.description.x, y, {
      width: COLUMNS.description.width,
      lineBreak: false,
      ellipsis: true,
    });
    if (line.quantity !== null) {
      doc.text(String(line.quantity), COLUMNS.quantity.x, y, {
        width: COLUMNS.quantity.width,
        align: "right",
        lineBreak: false,
      });
    }
    if (line.unitAmount !== null) {
      doc.text(money(model, line.unitAmount), COLUMNS.unit.x, y, {
        width: COLUMNS.unit.width,
        align: "right",
        lineBreak: false,
      });
    }
    doc.text(money(model, line.amount), COLUMNS.amount.x, y, {
      width: COLUMNS.amount.width,
      align: "right",
      lineBreak: false,
    });
    if (line.period) {
      doc
        .fontSize(8)
        .fillColor("#666666")
        .text(line.period, COLUMNS.description.x, y + 12, {
          width: COLUMNS.description.width,
          lineBreak: false,
        });
    }
    y += ROW_HEIGHT;
  }

  const block = 16 * model.totals.length + 10;
  if (y + block > BODY_BOTTOM) y = newPage() + 4;
  doc
    .moveTo(MARGIN + 250, y)
    .lineTo(PAGE.width - MARGIN, y)
    .strokeColor("#cccccc")
    .stroke();
  y += 6;
  for (const total of model.totals) {
    doc
      .font(total.strong ? "Helvetica-Bold" : "Helvetica")
      .fontSize(10)
      .fillColor("#111111");
    doc.text(total.label, MARGIN + 250, y, { width: 150, lineBreak: false });
    doc.text(money(model, total.amount), COLUMNS.amount.x - 30, y, {
      width: COLUMNS.amount.width + 30,
      align: "right",
      lineBreak: false,
    });
    y += 16;
  }

  if (model.creditNotes.length > 0) {
    y += 10;
    if (y + 16 * (model.creditNotes.length + 1) > BODY_BOTTOM) y = newPage() + 4;
    doc.font("Helvetica-Bold").fontSize(10).text("Credit notes", MARGIN, y);
    y += 15;
    doc.font("Helvetica").fontSize(10);
    for (const note of model.creditNotes) {
      if (y + 16 > BODY_BOTTOM) y = newPage() + 4;
      doc.text(`${note.number}  ${note.issuedOn}`, MARGIN, y, { width: 300, lineBreak: false });
      doc.text(`-${money(model, note.amount)}`, COLUMNS.amount.x - 30, y, {
        width: COLUMNS.amount.width + 30,
        align: "right",
        lineBreak: false,
      });
      y += 15;
    }
  }
  if (model.memo) {
    y += 10;
    if (y + 30 > BODY_BOTTOM) y = newPage() + 4;
    doc
      .font("Helvetica")
      .fontSize(9)
      .fillColor("#555555")
      .text(`Memo: ${model.memo}`, MARGIN, y, {
        width: CONTENT_WIDTH,
        height: BODY_BOTTOM - y,
        ellipsis: true,
      });
  }

  const range = doc.bufferedPageRange();
  for (let i = 0; i < range.count; i++) {
    doc.switchToPage(range.start + i);
    // The footer sits in the bottom margin: without this pdfkit would start a new page for it.
    doc.page.margins.bottom = 0;
    doc.font("Helvetica").fontSize(8).fillColor("#666666");
    doc.text(`Page ${i + 1} of ${range.count}`, MARGIN, FOOTER_Y, {
      width: CONTENT_WIDTH,
      align: "center",
      lineBreak: false,
    });
  }
};
