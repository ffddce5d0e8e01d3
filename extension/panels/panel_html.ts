// The HTML shell of a panel page: a strict Content-Security-Policy (scripts only with this page's
// nonce, styles and images only from the webview's own resource origin, no eval, no remote content,
// no network), the panel's stylesheet and script, and an empty #app the script fills. Pure (no
// `vscode` import), so the browser tests serve the very same page the extension does.

export interface PanelPage {
  /** monitor, inspector or compare: the bundle dist/webview/<page>.js and its .css. */
  page: 'monitor' | 'inspector' | 'compare';
  title: string;
  /** URIs (as the webview sees them) of the bundle and its stylesheet. */
  scriptUri: string;
  styleUri: string;
  /** The webview's resource origin (`webview.cspSource`). */
  cspSource: string;
  nonce: string;
}

/** A nonce for one page load: 32 characters from a cryptographic source. */
export function makeNonce(random: (bytes: number) => Uint8Array): string {
  return Array.from(random(24), (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[b & 63]).join(
    '',
  );
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    // Web components of @vscode-elements and uPlot set inline style properties; styles still come
    // only from this page and the extension's files.
    `style-src ${cspSource} 'unsafe-inline'`,
    `img-src ${cspSource} data: blob:`,
    `font-src ${cspSource}`,
    // The inspector computes power spectra in a worker started from its own bundled text.
    'worker-src blob:',
    "connect-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function panelHtml(p: PanelPage): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(p.cspSource, p.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(p.title)}</title>
<link rel="stylesheet" href="${escapeHtml(p.styleUri)}">
</head>
<body data-panel="${p.page}">
<main id="app"></main>
<script nonce="${p.nonce}" src="${escapeHtml(p.scriptUri)}"></script>
</body>
</html>
`;
}
