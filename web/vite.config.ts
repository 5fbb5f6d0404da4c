// Build for the Quart app (it serves web/dist at /); in dev, Vite proxies the backend.
import { defineConfig } from "vite";

const backend = "http://127.0.0.1:8000";

export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    assetsDir: "assets",
    emptyOutDir: true,
  },
  server: {
    proxy: {
      "/api": { target: backend, changeOrigin: true },
      "/socket.io": { target: backend, changeOrigin: true, ws: true },
      "/openapi.json": { target: backend, changeOrigin: true },
    },
  },
});
