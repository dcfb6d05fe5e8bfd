// ESLint flat config: typescript-eslint's type-aware rules plus the layering of the code base
// (only telemetry/ touches OpenTelemetry, only http/ touches Koa, events/ stands alone, sim/ is a
// leaf that only main.ts starts). `npm run lint`; part of `npm test` and so of CI.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const restrict = (...patterns) => ['error', { patterns }];
const OTEL = {
  group: ['@opentelemetry/*'],
  message: 'Only src/telemetry/ imports OpenTelemetry: pass plain data to it.',
};
const KOA = { group: ['koa', '@koa/*', 'raw-body'], message: 'Only src/http/ imports Koa and the HTTP body reader.' };
const SIM = { group: ['**/sim/*', '**/sim/**'], message: 'Nothing imports src/sim/ but src/main.ts.' };
const LAYERS = ['pipeline', 'calls', 'store', 'telemetry', 'http', 'sim'].map((l) => `**/${l}/*`);

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', '*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
    },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  { files: ['**/*.js', '**/*.mjs'], languageOptions: { globals: globals.node } },
  // Layer boundaries (src only; tests may reach anything).
  { files: ['src/**/*.ts'], rules: { 'no-restricted-imports': restrict(OTEL, KOA, SIM) } },
  { files: ['src/telemetry/**/*.ts'], rules: { 'no-restricted-imports': restrict(KOA, SIM) } },
  { files: ['src/http/**/*.ts'], rules: { 'no-restricted-imports': restrict(OTEL, SIM) } },
  {
    files: ['src/events/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(OTEL, KOA, {
        group: LAYERS,
        message: 'src/events/ imports no other project layer.',
      }),
    },
  },
  { files: ['src/sim/**/*.ts'], rules: { 'no-restricted-imports': restrict(OTEL, KOA) } },
  { files: ['src/main.ts'], rules: { 'no-restricted-imports': restrict(OTEL, KOA) } },
);
