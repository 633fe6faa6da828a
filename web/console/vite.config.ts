// The staff console: built into build/web/console, served at /console/ by `make dev` and from S3 + CloudFront
// beside the member centre.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

const root = fileURLToPath(new URL('.', import.meta.url))

export default defineConfig({
  root,
  base: './',
  plugins: [vue()],
  build: {
    outDir: fileURLToPath(new URL('../../build/web/console', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 2500,
  },
  // web/shared (the GraphQL core both front ends use) sits outside this root: the dev server may serve it.
  server: { port: 5174, fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] } },
})
