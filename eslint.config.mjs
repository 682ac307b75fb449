import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'data/**', '.nx/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      // Nest classes are decorated and referenced through DI: an "extraneous" class is normal.
      '@typescript-eslint/no-extraneous-class': 'off',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:persistence', onlyDependOnLibsWithTags: ['type:domain'] },
            // Signal's signatures, shared by the simulated network and the Baileys adapter.
            { sourceTag: 'type:crypto', onlyDependOnLibsWithTags: [] },
            // Baileys' key-store transactions in one AsyncLocalStorage, shared the same way.
            { sourceTag: 'type:runtime', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:wa-sim', onlyDependOnLibsWithTags: ['type:crypto', 'type:runtime'] },
            {
              sourceTag: 'type:whatsapp',
              onlyDependOnLibsWithTags: ['type:domain', 'type:contracts', 'type:wa-sim'],
            },
            // An adapter implements the port; nothing but the gateway runtime picks one.
            {
              sourceTag: 'type:whatsapp-adapter',
              onlyDependOnLibsWithTags: ['type:whatsapp', 'type:crypto', 'type:runtime'],
            },
            { sourceTag: 'type:messaging', onlyDependOnLibsWithTags: ['type:contracts'] },
            {
              sourceTag: 'type:gateway',
              onlyDependOnLibsWithTags: [
                'type:domain',
                'type:persistence',
                'type:contracts',
                'type:messaging',
                'type:whatsapp',
                'type:whatsapp-adapter',
              ],
            },
            {
              // The API embeds one gateway worker and the simulated network in `npm start`.
              sourceTag: 'scope:api',
              onlyDependOnLibsWithTags: [
                'type:domain',
                'type:persistence',
                'type:contracts',
                'type:messaging',
                'type:gateway',
                'type:wa-sim',
              ],
            },
            {
              sourceTag: 'scope:gateway',
              onlyDependOnLibsWithTags: [
                'type:domain',
                'type:persistence',
                'type:contracts',
                'type:messaging',
                'type:gateway',
              ],
            },
            { sourceTag: 'scope:wa-sim', onlyDependOnLibsWithTags: ['type:wa-sim', 'type:crypto'] },
            // The SDK is what users install: it stands alone. The console uses nothing else.
            { sourceTag: 'type:sdk', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:console', onlyDependOnLibsWithTags: ['type:sdk'] },
          ],
        },
      ],
    },
  },
  {
    // Tests and tooling: HTTP bodies are untyped JSON by nature.
    files: ['test/**/*.ts', '**/*.spec.ts', 'bench/**', 'scripts/**'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  { files: ['**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  { files: ['**/*.mjs'], languageOptions: { globals: globals.node } },
  prettier,
);
