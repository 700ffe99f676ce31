// Lint rules that keep the rooms apart: engine/ never imports vscode, webview/ never imports Node, nor engine/ code
// (types of the wire only, with `import type`).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';
import globals from 'globals';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'out/**', 'bench/**/*.py', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['engine/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'engine/ must not depend on VS Code: it runs in the CLI, tests and the engine process.' }],
      }],
    },
  },
  {
    files: ['webview/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          ...nodeBuiltins.map((name) => ({ name, message: 'webview/ runs in a browser: no Node modules.' })),
          { name: 'vscode', message: 'webview/ runs in a browser: talk to the host through webview/protocol.ts.' },
        ],
        patterns: [
          { group: ['node:*'], message: 'webview/ runs in a browser: no Node modules.' },
          { group: ['**/extension/**', '**/extension'], message: 'webview/ must not import extension/ code: talk to the host through webview/protocol.ts.' },
          // Types of the wire only: `import type` from a types-only engine file (no imports of its own), never code.
          { group: ['**/engine/**'], allowTypeImports: true, message: 'webview/ may import only types from engine/ (`import type`, from a types-only file).' },
        ],
      }],
    },
  },
  {
    files: ['extension/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['@tensorflow/*'], message: 'extension/ holds no numerics: call the engine process.' }],
      }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**'],
    languageOptions: { globals: { ...globals.node } },
  },
  { files: ['**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
