// The JSON path of the value a config diagnostic points at ("training.lr", "data.simulator.priors.zeta.min"),
// for ConfigErrorData.path. The validator reports positions (LSP ranges), not paths, so the path is
// recovered from the config text with jsonc-parser: the innermost node at the diagnostic's start, and
// the property/index chain leading to it.
import { findNodeAtOffset, getNodePath, parseTree, type Node } from 'jsonc-parser';

/** Offset of a 0-based (line, character) position in `text`; clamped to the text. */
function offsetOf(text: string, line: number, character: number): number {
  let offset = 0;
  for (let l = 0; l < line; l++) {
    const next = text.indexOf('\n', offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  return Math.min(text.length, offset + Math.max(0, character));
}

/**
 * The dotted path (array indices as [i]) of the node at 0-based (line, character) of a JSON text, or
 * '' for the document root or a position outside any value (a syntax error, say).
 */
export function jsonPathAt(text: string, line: number, character: number): string {
  const root = parseTree(text);
  if (!root) return '';
  let node: Node | undefined = findNodeAtOffset(root, offsetOf(text, line, character), true);
  if (!node) return '';
  // On a property key, the path is that of the property's value.
  if (node.parent?.type === 'property' && node.parent.children?.[0] === node)
    node = node.parent.children[1] ?? node.parent;
  const segments = getNodePath(node);
  return segments.reduce<string>(
    (path, segment) =>
      typeof segment === 'number' ? `${path}[${segment}]` : path === '' ? segment : `${path}.${segment}`,
    '',
  );
}
