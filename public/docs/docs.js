// Renders the gateway's own /openapi.json with Swagger UI. A separate file rather than an inline
// script, so the page's Content-Security-Policy (set by src/routes/pages.ts) can refuse inline scripts.
window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  presets: [SwaggerUIBundle.presets.apis],
  // No top bar: its URL box would let the page load and call any other API description.
  layout: 'BaseLayout',
  deepLinking: true,
  // The default shows a badge fetched from validator.swagger.io: an outside request, off.
  validatorUrl: null,
  displayRequestDuration: true,
  // Keep the bearer key in memory only, never in localStorage.
  persistAuthorization: false,
});
