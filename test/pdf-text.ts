import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";

/**
 * The text of each page of a PDF, read back with Mozilla's pdf.js (legacy build, for Node): the
 * items of a page joined with spaces, in drawing order.
 */
export const pdfPages = async (bytes: Uint8Array): Promise<string[]> => {
  const doc = await getDocument({
    data: new Uint8Array(bytes),
    useSystemFonts: false,
    disableFontFace: true,
    isEvalSupported: false,
    verbosity: 0,
  }).promise;
  const pages: string[] = [];
  for (let i = 1; i <= doc.numPages; i++) {
    const page = await doc.getPage(i);
    const content = await page.getTextContent();
    pages.push(
      content.items
        .map((item) => ("str" in item ? item.str : ""))
        .filter((s) => s.length > 0)
        .join(" "),
    );
  }
  await doc.destroy();
  return pages;
};
