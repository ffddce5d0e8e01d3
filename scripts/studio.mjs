// `npm start`: opens L3M Studio in a real VS Code workbench (code-server) on 127.0.0.1.
// The work is written in TypeScript (scripts/workbench/studio.ts); tsx, a dev dependency that the
// tests use too, runs it without a separate compile step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./workbench/studio.ts');
process.exitCode = await main(process.argv.slice(2));
