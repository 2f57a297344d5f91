// ESLint flat config: typescript-eslint type-checked rules plus the house boundaries (STYLE.md).
import tseslint from 'typescript-eslint'

const CAPABILITIES = [
  'api',
  'audit',
  'cli',
  'config',
  'deploy',
  'doctor',
  'edge',
  'iam',
  'monitor',
  'runtimes',
  'services',
  'store',
  'tenancy',
  'waf',
]

// The WAF's leaves never import the compiler or the engine (STYLE.md: operators, transforms, actions, body).
const WAF_LEAVES = ['operators', 'transforms', 'actions', 'body']

// In flat config a later block's `no-restricted-imports` replaces an earlier one for the files both match, so
// every restriction a file is under is built here, once, and each file matches exactly one block.
const boundary = (cap) => ({
  regex: `^\\.\\./(\\.\\./)*(${CAPABILITIES.filter((c) => c !== cap).join('|')})/(?!index\\.js$).+`,
  message: 'Import another capability only through its index.ts (STYLE.md boundaries).',
})
const wafPure = ['node:fs', 'node:net', 'node:fs/promises', 'fs', 'net'].map((name) => ({
  name,
  message: 'waf/ is pure: inject I/O.',
}))
const wafLeaf = {
  regex: '^(\\.\\./)+(seclang|engine)(/|$)',
  message: 'WAF leaves (operators, transforms, actions, body) never import seclang/ or engine/ (STYLE.md).',
}

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'bench/results/**',
      '**/testdata/**',
      'examples/**',
      'eslint.config.js',
      // Generated from /v1/openapi.json (npm run console:api-types); test/console-api-types.test.ts keeps it current.
      'console/src/api/schema.d.ts',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test()/describe() return promises the runner itself awaits.
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['test', 'describe', 'it', 'suite', 'before', 'after'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/only-throw-error': 'off',
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true, allowNullish: true },
      ],
    },
  },
  // Capabilities talk to each other only through their index.ts.
  ...CAPABILITIES.filter((cap) => cap !== 'waf').map((cap) => ({
    files: [`src/${cap}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns: [boundary(cap)] }] },
  })),
  // The WAF: the boundary, and pure (no file or network access) outside its tests (STYLE.md).
  {
    files: ['src/waf/**/*.ts'],
    ignores: ['src/waf/**/*.test.ts', ...WAF_LEAVES.map((l) => `src/waf/${l}/**/*.ts`)],
    rules: { 'no-restricted-imports': ['error', { paths: wafPure, patterns: [boundary('waf')] }] },
  },
  {
    files: WAF_LEAVES.map((l) => `src/waf/${l}/**/*.ts`),
    ignores: ['src/waf/**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: wafPure, patterns: [boundary('waf'), wafLeaf] }] },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      'no-restricted-imports': 'off',
    },
  },
)
