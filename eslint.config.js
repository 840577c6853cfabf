// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import boundaries from './scripts/lint-boundaries.mjs';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.serverless/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // No rule here reads JSDoc nodes (comments are still seen), and parsing every doc comment into them is
    // a large share of the parse in a tree documented as this one is.
    languageOptions: { parserOptions: { jsDocParsingMode: 'none' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    // Module boundaries (scripts/lint-boundaries.mjs): no trigger imports another, the CLI no handler module,
    // the core no trigger, the domain no adapter or SDK.
    files: ['functions/**/*.{ts,mjs,js}'],
    plugins: { quiesce: boundaries },
    rules: { 'quiesce/boundaries': 'error' },
  },
  {
    // The demo, the bench and the CLI print for humans.
    files: ['scripts/**', 'test/bench/**', 'bin/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // CommonJS that osls loads with require() (infra/stage-settings.cjs).
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Plain JavaScript run by node directly (launchers, the bench's Lambda runner).
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', performance: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
