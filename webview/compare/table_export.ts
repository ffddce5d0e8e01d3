// The Copy / Save buttons under each of Compare's tables (the metrics table and the group table), and what a
// press sends to the host: the text for the clipboard, or a file through the save dialog.
import { safeFileName } from '../shared/export';
import type { PanelBridge } from '../shared/vscode_api';

export type TableFormat = 'markdown' | 'csv';

/** The four buttons (Copy/Save × Markdown/CSV) in `container`; `onExport` gets the format and whether to copy. */
export function tableExportButtons(
  container: HTMLElement,
  onExport: (format: TableFormat, copy: boolean) => void,
): void {
  for (const [label, format, copy] of [
    ['Copy Markdown', 'markdown', true],
    ['Copy CSV', 'csv', true],
    ['Save Markdown', 'markdown', false],
    ['Save CSV', 'csv', false],
  ] as const) {
    const button = document.createElement('vscode-button');
    button.setAttribute('secondary', '');
    button.textContent = label;
    button.addEventListener('click', () => onExport(format, copy));
    container.append(button);
  }
}

/** Puts a table's text on the clipboard (`what` names it in the host's message) or saves it as `<fileStem>.md|.csv`. */
export function postTableText(
  bridge: PanelBridge,
  table: { text: string; format: TableFormat; copy: boolean; what: string; fileStem: string },
): void {
  const { text, format, copy, what, fileStem } = table;
  if (copy) {
    bridge.post({ type: 'compare/copy', text, what });
    return;
  }
  bridge.post({
    type: 'export',
    fileName: `${safeFileName(fileStem)}.${format === 'csv' ? 'csv' : 'md'}`,
    mime: format === 'csv' ? 'text/csv' : 'text/markdown',
    data: text,
  });
}
