// The web console: Preact, bundled by Vite into dist/ (served by the API at `/`).
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  // Served at `/` by the API; relative asset URLs also work behind a path prefix.
  base: './',
  // Workspace packages (the SDK) are bundled from their TypeScript sources.
  resolve: { conditions: ['@wagw/source', 'module', 'browser', 'development|production'] },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
    modulePreload: { polyfill: false },
  },
  logLevel: 'warn',
});
