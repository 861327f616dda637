// Mounts the API reference on /v1/docs. `standalone.js` (the @scalar/api-reference bundle, copied
// here by scripts/copy-api-reference.mjs on `npm install`) defines `Scalar`; the page's #app names
// the document to show. Nothing is fetched from anywhere but this origin: no web fonts, no
// telemetry, no AI agent.
const mount = document.getElementById("app");
Scalar.createApiReference(mount, {
  url: mount.dataset.openapiUrl,
  withDefaultFonts: false,
  telemetry: false,
  agent: { disabled: true },
  showDeveloperTools: "never",
  defaultOpenAllTags: true,
});
