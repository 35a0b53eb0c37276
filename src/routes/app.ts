/** The HTTP surface: one router per resource, one error handler that speaks the envelope. */
import { callbacks } from "./callbacks";
import { health } from "./health";
import { lyrics } from "./lyrics";
import { adminPage, docs } from "./pages";
import { serveOpenApiDocument } from "./openapi";
import { stats } from "./stats";
import { usage } from "./usage";
import { requireApiKey } from "./http/auth";
import { onError } from "./http/errors";
import { logRequest } from "./http/request-log";
import { listRoutesWhenNotFound, refuseOtherMethods } from "./http/route-table";
import { createRouter } from "./http/router";
import { CALLBACK_PATH_PREFIX } from "../security/callback-token";

export const app = createRouter();

app.onError(onError);
app.notFound(listRoutesWhenNotFound(app));

// First, so its line covers every answer, including those of the middlewares after it.
app.use("*", logRequest);
// Before authentication: a wrong method is named as such, with or without a key.
app.use("*", refuseOtherMethods(app));
app.use("/api/*", requireApiKey);
app.route("/api/v1/lyrics", lyrics);
app.route("/api/v1/stats", stats);
app.route("/api/v1/usage", usage);
app.route(CALLBACK_PATH_PREFIX.replace(/\/$/, ""), callbacks);
app.route("/healthz", health);
app.route("/docs", docs);
app.route("/admin", adminPage);
serveOpenApiDocument(app);
