// `npm run e2e-setup`: installs the workbench (Node 24 and code-server) into .workbench/ or
// $L3M_WORKBENCH_DIR, once; .ci/run calls it before the tests, and `npm start` and the e2e harness
// call the same function on first use.
import { tsImport } from 'tsx/esm/api';

const { ensureWorkbench } = await tsImport('./workbench/install.ts', import.meta.url);
try {
  const workbench = await ensureWorkbench((line) => console.error(line));
  console.log(
    `Workbench ready in ${workbench.dir}: code-server ${workbench.codeServerVersion} (VS Code ${workbench.codeVersion}), Node ${workbench.node}`,
  );
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
