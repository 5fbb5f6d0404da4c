// Build for the Quart app (it serves web/dist at / and every client-side path); in dev, Vite
// proxies the backend. Preact's JSX through the automatic runtime; everything is bundled.
import { defineConfig } from "vite";

const backend = "http://127.0.0.1:8000";

export default defineConfig({
  base: "/",
  resolve: {
    // The room log's protocol is the client package's (clients/typescript), bundled from source.
    alias: { "@samooh/client/roomlog": decodeURIComponent(new URL("../clients/typescript/src/roomlog.ts", import.meta.url).pathname) },
  },
  oxc: {
    jsx: { runtime: "automatic", importSource: "preact" },
  },
  build: {
    outDir: "dist",
    assetsDir: "assets",
    emptyOutDir: true,
    // Chart.js is loaded with the screens that draw charts, so the first paint stays small.
    chunkSizeWarningLimit: 400,
  },
  server: {
    proxy: {
      "/api": { target: backend, changeOrigin: true },
      "/socket.io": { target: backend, changeOrigin: true, ws: true },
      "/openapi.json": { target: backend, changeOrigin: true },
      "/asyncapi.json": { target: backend, changeOrigin: true },
      "/dev": { target: backend, changeOrigin: true },
    },
  },
});
