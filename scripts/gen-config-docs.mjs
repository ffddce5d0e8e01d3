// Writes docs/config-reference.md from schemas/l3m-experiment.schema.json, the one source of truth of the
// experiment config, so that the reference a reader opens can never disagree with what the editor and the
// sidecar validate: every field with its path, type, default, allowed values or range and description,
// one section per object of the config. Defaults that depend on the task (`allOf` if/then/else in the
// schema) are listed beside the field they change.
// Usage: `npm run gen:docs` writes the file; test/unit/config_docs.test.ts regenerates the text in memory
// with `generateConfigDocs` and fails when the committed file is stale.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const schemaPath = join(root, 'schemas', 'l3m-experiment.schema.json');
export const docsPath = join(root, 'docs', 'config-reference.md');

const banner =
  '<!-- generated, do not edit: derived from schemas/l3m-experiment.schema.json by scripts/gen-config-docs.mjs ' +
  '(run `npm run gen:docs` after changing the schema; test/unit/config_docs.test.ts checks it is current). -->';

const isObject = (node) => node !== null && typeof node === 'object' && !Array.isArray(node);

/** Every property path of the schema (`backbone.lora.alpha`), in schema order, each once. */
export function fieldPaths(schema) {
  const paths = [];
  const visit = (node, prefix) => {
    if (!isObject(node)) return;
    for (const [name, sub] of Object.entries(node.properties ?? {})) {
      const path = prefix ? `${prefix}.${name}` : name;
      if (!paths.includes(path)) paths.push(path);
      visit(sub, path);
    }
    for (const branch of node.oneOf ?? []) visit(branch, prefix);
  };
  visit(schema, '');
  return paths;
}

/** A JSON value as inline code; a table cell escapes its pipes separately. */
function code(value) {
  return `\`${JSON.stringify(value)}\``;
}

/** Text safe inside a Markdown table cell: one line, pipes escaped. */
function cell(text) {
  return String(text).replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

/** Plain-language summary of an `if` clause: `task = generation and data.source = simulator`. */
function describeCondition(condition, prefix = '') {
  const parts = [];
  for (const [name, sub] of Object.entries(condition?.properties ?? {})) {
    const path = prefix ? `${prefix}.${name}` : name;
    if (sub.const !== undefined) parts.push(`${path} = ${sub.const}`);
    else if (Array.isArray(sub.enum)) parts.push(`${path} ∈ {${sub.enum.join(', ')}}`);
    const nested = describeCondition(sub, path);
    if (nested) parts.push(nested);
  }
  return parts.join(' and ');
}

/** Defaults that a conditional branch sets, per field path: [{ when, value }]. */
function conditionalDefaults(schema) {
  const found = new Map();
  const collect = (branch, when, prefix) => {
    for (const [name, sub] of Object.entries(branch?.properties ?? {})) {
      const path = prefix ? `${prefix}.${name}` : name;
      if (sub.default !== undefined) {
        if (!found.has(path)) found.set(path, []);
        found.get(path).push({ when, value: sub.default });
      }
      collect(sub, when, path);
    }
  };
  for (const part of schema.allOf ?? []) {
    const condition = describeCondition(part.if);
    if (part.then) collect(part.then, `when ${condition}`, '');
    const negated = /^[^ ]+ = [^ ]+$/.test(condition) ? condition.replace(' = ', ' ≠ ') : `not (${condition})`;
    if (part.else) collect(part.else, `when ${negated}`, '');
  }
  return found;
}

function typeText(node) {
  if (node.oneOf) return node.oneOf.map((branch) => branch.title ?? typeText(branch)).join(' or ');
  const types = Array.isArray(node.type) ? node.type : node.type ? [node.type] : [];
  if (types.includes('array') && node.items) {
    const itemTypes = typeText(node.items);
    return types.map((t) => (t === 'array' ? `array of ${itemTypes}` : t)).join(' or ');
  }
  return types.join(' or ') || 'any';
}

/** Allowed values and bounds of one node (enum, const, range, length, pattern, item count). */
function constraintText(node) {
  const parts = [];
  if (node.const !== undefined) parts.push(`exactly ${code(node.const)}`);
  else if (Array.isArray(node.enum)) parts.push(node.enum.map((v) => code(v)).join(', '));
  // A bound given both ways (minimum 0 and exclusiveMinimum 0) is shown once, as the stricter one.
  if (node.minimum !== undefined && !(node.exclusiveMinimum >= node.minimum)) parts.push(`≥ ${node.minimum}`);
  if (node.exclusiveMinimum !== undefined) parts.push(`> ${node.exclusiveMinimum}`);
  if (node.maximum !== undefined && !(node.exclusiveMaximum <= node.maximum)) parts.push(`≤ ${node.maximum}`);
  if (node.exclusiveMaximum !== undefined) parts.push(`< ${node.exclusiveMaximum}`);
  if (node.minLength !== undefined) parts.push(`length ≥ ${node.minLength}`);
  if (node.maxLength !== undefined) parts.push(`length ≤ ${node.maxLength}`);
  if (node.pattern !== undefined) parts.push(`matches \`${node.pattern}\``);
  if (node.minItems !== undefined && node.minItems === node.maxItems) parts.push(`${node.minItems} items`);
  else {
    if (node.minItems !== undefined) parts.push(`≥ ${node.minItems} items`);
    if (node.maxItems !== undefined) parts.push(`≤ ${node.maxItems} items`);
  }
  if (node.uniqueItems) parts.push('no repeats');
  if (isObject(node.items)) {
    const items = constraintText(node.items);
    if (items) parts.push(`each: ${items}`);
  }
  return parts.join('; ');
}

function defaultText(node, path, conditional) {
  const parts = [];
  if (node.default !== undefined) parts.push(code(node.default));
  for (const { when, value } of conditional.get(path) ?? []) parts.push(`${code(value)} ${when}`);
  return parts.length ? parts.join('; ') : '—';
}

function descriptionText(node) {
  let text = node.markdownDescription ?? node.description ?? '';
  const labels = node.markdownEnumDescriptions ?? node.enumDescriptions;
  if (Array.isArray(labels) && Array.isArray(node.enum)) {
    text += `<br>${node.enum.map((value, i) => `${code(value)}: ${labels[i] ?? ''}`).join('<br>')}`;
  }
  return text;
}

const hasChildren = (node) => isObject(node) && (isObject(node.properties) || Array.isArray(node.oneOf));

/** The text of docs/config-reference.md for the given schema object. */
export function generateConfigDocs(schema) {
  const conditional = conditionalDefaults(schema);
  const usedAnchors = new Set();
  const anchor = (path) => {
    let id = path;
    for (let n = 2; usedAnchors.has(id); n++) id = `${path}-${n}`;
    usedAnchors.add(id);
    return `<a id="${id}"></a>`;
  };
  const heading = (depth) => '#'.repeat(Math.min(depth + 1, 4));
  const tableHead = ['| field | type | default | allowed | description |', '| --- | --- | --- | --- | --- |'];
  const row = (node, path) => {
    const field = hasChildren(node) ? `[\`${path}\`](#${path})` : `${anchor(path)}\`${path}\``;
    const description = hasChildren(node)
      ? `${descriptionText(node)} See [\`${path}\`](#${path}).`
      : descriptionText(node);
    return `| ${field} | ${cell(typeText(node))} | ${cell(defaultText(node, path, conditional))} | ${cell(constraintText(node))} | ${cell(description)} |`;
  };

  const sections = [];
  /** One section per object (or one-of) node: its own summary, a table of its fields, then its sub-objects. */
  const section = (node, path, depth) => {
    const lines = [`${heading(depth)} ${anchor(path)}\`${path}\``, ''];
    lines.push(`Type: ${typeText(node)}. Default: ${defaultText(node, path, conditional)}.`, '');
    const description = node.markdownDescription ?? node.description;
    if (description) lines.push(description, '');
    const nested = [];
    const table = (owner, title) => {
      const entries = Object.entries(owner.properties ?? {});
      if (entries.length === 0) return;
      if (title)
        lines.push(
          `**${title}**${(owner.markdownDescription ?? owner.description) ? `: ${owner.markdownDescription ?? owner.description}` : ''}`,
          '',
        );
      lines.push(...tableHead);
      for (const [name, sub] of entries) {
        const subPath = `${path}.${name}`;
        lines.push(row(sub, subPath));
        if (hasChildren(sub)) nested.push([sub, subPath]);
      }
      lines.push('');
    };
    if (Array.isArray(node.oneOf)) {
      for (const branch of node.oneOf)
        table(branch, `${branch.title ?? 'variant'} (${constraintText(branch.properties?.kind ?? {}) || 'one of'})`);
    } else {
      table(node, '');
    }
    sections.push(lines.join('\n'));
    for (const [sub, subPath] of nested) section(sub, subPath, depth + 1);
  };

  const top = Object.entries(schema.properties ?? {});
  const scalars = top.filter(([, node]) => !hasChildren(node));
  const objects = top.filter(([, node]) => hasChildren(node));

  const topLines = ['## <a id="top-level"></a>Top level', ''];
  if (schema.required?.length)
    topLines.push(
      `Required: ${schema.required.map((name) => `\`${name}\``).join(', ')}. Unknown fields are errors.`,
      '',
    );
  topLines.push(...tableHead, ...scalars.map(([name, node]) => row(node, name)), '');
  for (const [name, node] of objects) section(node, name, 1);

  const taskDefaults = [...conditional.entries()].flatMap(([path, list]) =>
    list.map(({ when, value }) => `- [\`${path}\`](#${path}): ${code(value)} ${when}`),
  );

  const intro = [
    banner,
    '',
    '# Config reference',
    '',
    `${schema.markdownDescription ?? schema.description ?? ''}`,
    '',
    'An experiment is one JSON file ending in `.l3m.json`. This page lists every field the schema allows, ' +
      'grouped by top-level section; a field left out takes its default. Ranges are inclusive unless ' +
      'written with < or >. Relations between fields that JSON Schema cannot express (for example that the ' +
      'patch size divides the slice) are checked by `schemas/semantic_checks.ts` and reported in the editor ' +
      'and by `l3m validate`.',
    '',
    '## Contents',
    '',
    '- [Top level](#top-level)',
    ...objects.map(([name]) => `- [\`${name}\`](#${name})`),
    '- [Defaults that depend on the task](#task-dependent-defaults)',
    '',
  ];
  const outro = ['## <a id="task-dependent-defaults"></a>Defaults that depend on the task', '', ...taskDefaults, ''];
  return [...intro, topLines.join('\n'), ...sections, outro.join('\n')].join('\n');
}

function main() {
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
  mkdirSync(dirname(docsPath), { recursive: true });
  writeFileSync(docsPath, generateConfigDocs(schema));
  console.log(`wrote ${docsPath}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    main();
  } catch (error) {
    console.error(`gen-config-docs: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
