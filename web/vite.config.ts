// Builds the static bundle `joinedup serve` embeds: index.html plus hashed files under assets/.
// The output folder is $JOINEDUP_WEB_OUT when set (CMake points it into the build tree), else
// web/dist. Nothing is inlined: the server's Content Security Policy allows scripts, styles,
// fonts and images from 'self' only (see docs/ui.md).
import { defineConfig } from "vite";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = process.env.JOINEDUP_WEB_OUT
  ? path.resolve(process.env.JOINEDUP_WEB_OUT)
  : path.join(here, "dist");

// `npm run dev`: Vite's dev server (hot reload) in front of a running `joinedup serve`, which
// answers the API and sign-in: JOINEDUP_API (default http://127.0.0.1:8080). The server refuses a
// sign-in posted from another origin, so the proxy presents the server's own.
const api = process.env.JOINEDUP_API ?? "http://127.0.0.1:8080";
const proxy = Object.fromEntries(["/auth", "/app/api", "/fhir"].map((prefix) => [prefix, {
  target: api,
  changeOrigin: true,
  configure: (p: { on(event: "proxyReq", f: (req: { setHeader(n: string, v: string): void; getHeader(n: string): unknown }) => void): void }) => {
    p.on("proxyReq", (req) => { if (req.getHeader("origin")) req.setHeader("origin", api); });
  },
}]));

export default defineConfig({
  server: { proxy, strictPort: false },
  root: here,
  base: "/",
  resolve: {
    alias: {
      "@nhsuk-images": path.join(here, "node_modules/nhsuk-frontend/dist/nhsuk/assets/images"),
    },
  },
  css: {
    preprocessorOptions: {
      scss: {
        // nhsuk-frontend still uses a few Sass features Dart Sass marks as deprecated.
        quietDeps: true,
        silenceDeprecations: ["import", "global-builtin", "color-functions", "if-function"],
      },
    },
  },
  build: {
    outDir,
    emptyOutDir: true,
    assetsDir: "assets",
    // No data: URIs and no inline anything: every asset is a hashed file the server embeds.
    assetsInlineLimit: 0,
    // Only modern browsers (module scripts); no modulepreload polyfill (it would be code in the
    // entry chunk that fetches, not inline, but it is not needed either).
    modulePreload: { polyfill: false },
    target: "es2020",
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
});
