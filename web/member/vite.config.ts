// The H5 member centre: built into build/web/member, served at /m/ by `make dev` and from S3 + CloudFront.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

const root = fileURLToPath(new URL('.', import.meta.url))

export default defineConfig({
  root,
  base: './',
  plugins: [vue()],
  build: {
    outDir: fileURLToPath(new URL('../../build/web/member', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    port: 5173,
    // web/shared (the GraphQL core both front ends use) sits outside this root: the dev server may serve it.
    fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] },
    // `npm run dev:member`: the page on :5173 calls the local API on :8000 (CORS allows any localhost origin).
  },
})
