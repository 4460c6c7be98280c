import { createHash } from "node:crypto";

/**
 * The hosted document pages' only style: one constant inline block, allowed by its hash in the
 * pages' Content-Security-Policy (`http/security-headers.ts`), so no other style, and no script
 * at all, can run on them.
 */
export const HOSTED_PAGE_CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111;background:#f4f4f5;margin:0}
main{max-width:820px;margin:24px auto;background:#fff;padding:32px;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
header{display:flex;justify-content:space-between;align-items:flex-start;border-bottom:1px solid #ddd;padding-bottom:12px}
header img{max-height:48px;max-width:160px;display:block;margin-bottom:6px}
h1{font-size:1.4rem;margin:0}
.parties{display:flex;gap:48px;margin:20px 0}
.parties h2{font-size:.75rem;text-transform:uppercase;color:#666;margin:0 0 4px}
.parties p{margin:0;line-height:1.4}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0 0 20px}
dl.facts dt{color:#666}dl.facts dd{margin:0}
table{width:100%;border-collapse:collapse}
th{text-align:left;font-size:.75rem;text-transform:uppercase;color:#666;border-bottom:1px solid #ddd;padding:6px 4px}
td{padding:6px 4px;border-bottom:1px solid #f0f0f0;vertical-align:top}
.num{text-align:right;white-space:nowrap}
.period{display:block;font-size:.8rem;color:#666}
table.totals{width:auto;margin:16px 0 0 auto}
table.totals td{border:none;padding:3px 8px}
.strong td{font-weight:700}
.status{display:inline-block;padding:2px 8px;border-radius:10px;background:#eef;font-size:.8rem}
.actions{margin-top:24px;display:flex;gap:12px}
.actions a{display:inline-block;padding:8px 14px;border-radius:6px;background:#111;color:#fff;text-decoration:none}
.actions a.secondary{background:#fff;color:#111;border:1px solid #111}
.memo{color:#555;margin-top:16px}
`;

export const HOSTED_PAGE_CSS_HASH = `'sha256-${createHash("sha256").update(HOSTED_PAGE_CSS).digest("base64")}'`;
