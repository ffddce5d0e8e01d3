// VS Code theme colours for canvas drawing. The workbench sets --vscode-* CSS variables on the
// page's <html>/<body> and updates them when the theme changes (light, dark, high contrast); canvas
// code reads them here, with fallbacks for a page opened outside VS Code.

export function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(name).trim();
  return value === '' ? fallback : value;
}

/** A palette of distinguishable series colours from the theme's chart colours. */
export function seriesColors(): string[] {
  return [
    cssVar('--vscode-charts-blue', '#3794ff'),
    cssVar('--vscode-charts-orange', '#d18616'),
    cssVar('--vscode-charts-green', '#89d185'),
    cssVar('--vscode-charts-purple', '#b180d7'),
    cssVar('--vscode-charts-red', '#f14c4c'),
    cssVar('--vscode-charts-yellow', '#cca700'),
    '#4dc9c9',
    '#e377c2',
  ];
}

export function foreground(): string {
  return cssVar('--vscode-editor-foreground', cssVar('--vscode-foreground', '#cccccc'));
}

export function background(): string {
  return cssVar('--vscode-editor-background', '#1e1e1e');
}

export function gridColor(): string {
  return cssVar('--vscode-editorWidget-border', 'rgba(128,128,128,0.35)');
}

/** A colour with an alpha, for the faint raw curve behind a smoothed one. */
export function withAlpha(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{6})$/i.exec(color);
  if (hex) {
    const n = parseInt(hex[1], 16);
    return `rgba(${n >> 16},${(n >> 8) & 255},${n & 255},${alpha})`;
  }
  const short = /^#([0-9a-f]{3})$/i.exec(color);
  if (short)
    return withAlpha(
      `#${short[1]
        .split('')
        .map((c) => c + c)
        .join('')}`,
      alpha,
    );
  return color;
}

// VS Code re-themes a webview by rewriting the --vscode-* variables in <html>'s style attribute and
// the body's theme class and data-vscode-theme-* attributes; a switch between two dark themes keeps
// the class, so the variables must be watched too. One observer serves every listener (a compare
// page has a chart per metric and split).
const themeListeners = new Set<() => void>();
let themeObserver: MutationObserver | null = null;

/** Calls `onChange` after VS Code switches theme; the returned function stops it. */
export function onThemeChange(onChange: () => void): () => void {
  themeListeners.add(onChange);
  if (!themeObserver) {
    themeObserver = new MutationObserver(() => {
      for (const listener of [...themeListeners]) listener();
    });
    themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
    themeObserver.observe(document.body, {
      attributes: true,
      attributeFilter: ['class', 'data-vscode-theme-kind', 'data-vscode-theme-id', 'data-vscode-theme-name'],
    });
  }
  return () => themeListeners.delete(onChange);
}
