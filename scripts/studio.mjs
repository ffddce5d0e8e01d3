// `npm start`: opens L3M Studio in a real VS Code workbench (code-server) on 127.0.0.1.
// The work is written in TypeScript (scripts/workbench/studio.ts); tsx, a dev dependency that the
// tests use too, runs it without a separate compile step.
import { tsImport } from 'tsx/esm/api';

const { main } = await tsImport('./workbench/studio.ts', import.meta.url);
process.exitCode = await main(process.argv.slice(2));
