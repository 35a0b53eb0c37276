/**
 * What the gateway serves, read from the app's own routes (so it cannot drift from them): a known
 * path asked with a method it does not serve answers 405 with `Allow`, and an unknown path
 * answers 404 naming every route. Both in the envelope.
 */
import type { Hono, MiddlewareHandler, NotFoundHandler } from "hono";
import { errorEnvelope } from "./errors";

interface ServedPath {
	/** As the document writes it: `/callbacks/kie/{ref}`. */
	path: string;
	matches: RegExp;
	/** What `Allow` lists: HEAD wherever GET is served (Hono answers HEAD with the GET route). */
	methods: string[];
}

/** Any app: only its routes are read. */
type AnyApp = Pick<Hono, "routes">;

const tables = new WeakMap<AnyApp, ServedPath[]>();

/** Built on first use: by then every route is mounted. */
function servedPaths(app: AnyApp): ServedPath[] {
	let table = tables.get(app);
	if (!table) {
		const byPath = new Map<string, Set<string>>();
		for (const { method, path } of app.routes) {
			// Middlewares (`use`) and this module's own handlers register as ALL.
			if (method === "ALL") continue;
			const methods = byPath.get(path) ?? new Set<string>();
			methods.add(method);
			byPath.set(path, methods);
		}
		table = [...byPath].map(([path, methods]) => ({
			path: path.replace(/:(\w+)/g, "{$1}"),
			matches: new RegExp(`^${path.replace(/[.+?^$()[\]\\|]/g, "\\$&").replace(/:\w+/g, "[^/]+").replace(/\*/g, ".*")}$`),
			methods: [...methods, ...(methods.has("GET") ? ["HEAD"] : [])],
		}));
		tables.set(app, table);
	}
	return table;
}

/**
 * Answers 405 for a served path asked with another method. A middleware ahead of authentication,
 * so a wrong method is named as such with or without a key.
 */
export function refuseOtherMethods(app: AnyApp): MiddlewareHandler {
	return async (c, next) => {
		const pathname = c.req.path;
		const served = servedPaths(app).find((entry) => entry.matches.test(pathname));
		if (!served || served.methods.includes(c.req.method)) return next();
		const allow = served.methods.join(", ");
		return errorEnvelope(c, 405, 405, `${served.path} answers ${allow}, not ${c.req.method}.`, { allow });
	};
}

/** The 404 for a path no route serves, listing every route so a typo is easy to spot. */
export function listRoutesWhenNotFound(app: AnyApp): NotFoundHandler {
	return (c) => {
		const routes = servedPaths(app).flatMap(({ path, methods }) =>
			methods.filter((method) => method !== "HEAD").map((method) => `${method} ${path}`),
		);
		return errorEnvelope(c, 404, 404, `No route for ${c.req.method} ${c.req.path}. The routes are: ${routes.join(", ")}.`);
	};
}
