/**
 * /api/v1/lyrics: create a task, read one back, list and delete them, one sub-app each. Bearer
 * auth is applied in routes/app.ts.
 */
import { createRouter } from "../http/router";
import { create } from "./create";
import { recordInfo } from "./record-info";
import { tasks } from "./tasks";

export const lyrics = createRouter();
lyrics.route("/", create);
lyrics.route("/", recordInfo);
lyrics.route("/", tasks);
