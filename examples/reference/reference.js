// The reference page's only script (a file, so the page's CSP can refuse every inline one).
// #api=...&token=... (make dev prints it); the fragment reaches no server, and is dropped here.
const given = new URLSearchParams(location.hash.slice(1));
const api = (given.get("api") || "http://127.0.0.1:8080").replace(/\/+$/, "");
const token = given.get("token");
if (token) history.replaceState(null, "", `${location.pathname}#api=${encodeURIComponent(api)}`);
window.ui = SwaggerUIBundle({
  url: `${api}/openapi.json`,
  dom_id: "#swagger-ui",
  deepLinking: false, // the fragment holds #api=
  docExpansion: "list",
  defaultModelsExpandDepth: 0,
  // The document's "bearer" scheme, filled in: the Authorize button shows it, "Try it out" sends it.
  onComplete: () => token && window.ui.preauthorizeApiKey("bearer", token),
});
