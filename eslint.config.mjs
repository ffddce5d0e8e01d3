// ESLint for the whole tree: typescript-eslint's type-aware rules on the TypeScript of both projects
// (tsconfig.json for Node, webview/tsconfig.json for the panels), found per file by the project
// service. The rules that matter most here are the ones a type checker alone does not enforce: a
// promise nobody awaits or voids (a lost error, or a write racing the next one), a promise passed
// where a callback's result is ignored, and a cast that claims more than the value's type proves.
// Formatting is Prettier's (npm run format), not ESLint's.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['node_modules/**', 'dist/**', '.workbench/**', 'test-artifacts/**', 'schemas/generated/**', '**/*.d.ts'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test() and describe() return promises that the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unsafe-type-assertion': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // Tensor code: TF.js types a tensor's rank and a kernel's inputs more loosely than the code knows
    // them (x.shape as [B, T, C], a kernel's args as its tensors), so these casts state shapes that
    // the modules' own tests check, not claims about data from outside. Tests and benchmarks build
    // the values they cast.
    files: ['sidecar/model/**', 'sidecar/tasks/**', 'test/**', 'bench/**'],
    rules: { '@typescript-eslint/no-unsafe-type-assertion': 'off' },
  },
  {
    // Plain JavaScript (build scripts, the bin launcher) has no types to check.
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { ...globals.node },
    },
  },
  {
    // The bin launcher is CommonJS, so that it starts on any Node without a loader.
    files: ['bin/**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
