/** The HTTP surface: one router per resource, one error handler that speaks the envelope. */
import { callbacks } from "./routes/callbacks";
import { health } from "./routes/health";
import { lyrics } from "./routes/lyrics";
import { serveOpenApiDocument } from "./routes/openapi";
import { usage } from "./routes/usage";
import { requireApiKey } from "./http/auth";
import { onError, onNotFound } from "./http/errors";
import { logRequest } from "./http/request-log";
import { createRouter } from "./http/router";
import { CALLBACK_PATH_PREFIX } from "./security/callback-token";

export const app = createRouter();

app.onError(onError);
app.notFound(onNotFound);

app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
	type: "http",
	scheme: "bearer",
	description: "One of the gateway's API_KEYS (or ADMIN_API_KEYS).",
});

// First, so its line covers every answer, including those of the middlewares after it.
app.use("*", logRequest);
app.use("/api/*", requireApiKey);
app.route("/api/v1/lyrics", lyrics);
app.route("/api/v1/usage", usage);
app.route(CALLBACK_PATH_PREFIX.replace(/\/$/, ""), callbacks);
app.route("/healthz", health);
serveOpenApiDocument(app);
