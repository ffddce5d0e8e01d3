// `npm run package`: builds the extension for production and packages dist/l3m-studio.vsix with
// @vscode/vsce (see scripts/workbench/vsix.ts).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./workbench/vsix.ts');
process.exitCode = await main();
