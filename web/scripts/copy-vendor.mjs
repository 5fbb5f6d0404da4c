// Copies Swagger UI's browser files from the swagger-ui-dist package into dist/vendor/swagger/,
// so the backend's /api-docs page loads them from this origin (no CDN: the site must work offline).
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const source = dirname(require.resolve("swagger-ui-dist/package.json"));
const target = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "vendor", "swagger");

mkdirSync(target, { recursive: true });
for (const file of ["swagger-ui-bundle.js", "swagger-ui.css"]) {
  copyFileSync(join(source, file), join(target, file));
}
console.log("copied swagger-ui-bundle.js and swagger-ui.css into dist/vendor/swagger/");
