// `npm run package`: builds the extension for production and packages dist/l3m-studio.vsix with
// @vscode/vsce (see scripts/workbench/vsix.ts).
import { tsImport } from 'tsx/esm/api';

const { main } = await tsImport('./workbench/vsix.ts', import.meta.url);
process.exitCode = await main();
