/** The public shapes of GET /api/v1/stats: the handler validates with them, /openapi.json shows them. */
import { z } from "@hono/zod-openapi";
import { TASK_STATUSES } from "../domain/task-record";

export const MAX_STATS_HOURS = 720;
const badHours = `hours must be a whole number from 1 to ${MAX_STATS_HOURS} (the default is 24)`;

export const StatsQuery = z.object({
	hours: z
		.string()
		.optional()
		.transform((value, ctx) => {
			if (value === undefined || value === "") return 24;
			const hours = /^\d{1,4}$/.test(value) ? Number(value) : Number.NaN;
			if (!(hours >= 1 && hours <= MAX_STATS_HOURS)) {
				ctx.addIssue({ code: "custom", message: badHours });
				return z.NEVER;
			}
			return hours;
		})
		.openapi({
			param: { name: "hours", in: "query" },
			description: `The window: the tasks created in the last this many hours (1 to ${MAX_STATS_HOURS}, default 24).`,
			example: "24",
		}),
});

const count = z.number().int().min(0);
const StatusCounts = z
	.object(Object.fromEntries(TASK_STATUSES.map((status) => [status, count])) as Record<(typeof TASK_STATUSES)[number], typeof count>)
	.openapi({ description: "Tasks by their status now (every status, 0 when none)" });
const milliseconds = z.number().int().nullable();

export const StatsData = z
	.object({
		since: z.number().int().openapi({ description: "Unix ms: the window's start, the full clock hour `hours` hours before the answer's" }),
		hours: z.number().int().openapi({ description: "The window's length in hours" }),
		tasks: z.object({
			created: count.openapi({ description: "Tasks stored in the window, by their creation time" }),
			byStatus: StatusCounts,
			bySource: z
				.object({ callback: count, poll: count, timeout: count })
				.openapi({ description: "Final tasks by how their result arrived (resultSource)" }),
		}),
		timeToResultMs: z
			.object({ p50: milliseconds, p95: milliseconds })
			.openapi({
				description:
					"From create to result, over the tasks whose result came by callback or poll (nearest rank, within 2% " +
					"of the exact value; null when none)",
			}),
		deliveries: z
			.object({ pending: count, delivered: count, failed: count })
			.openapi({ description: "Deliveries to clients' callBackUrls, by delivery.state" }),
		tenants: z
			.array(
				z.object({
					tenant: z.string(),
					creates: count.openapi({ description: "The tenant's tasks in the window" }),
					quota: z.number().int().nullable().openapi({ description: "Its creates per UTC day (TENANT_QUOTAS), or null" }),
				}),
			)
			.openapi({ description: "Every tenant configured or with tasks in the window" }),
		hourly: z
			.array(z.object({ since: z.number().int(), created: count, byStatus: StatusCounts }))
			.openapi({
				description:
					"The tasks created in each clock hour (UTC) of the window, by status, oldest first: hours + 1 entries, " +
					"the first from `since`, the last from the last full hour to now",
			}),
		failingHosts: z
			.array(
				z.object({
					host: z.string(),
					failed: count.openapi({ description: "Deliveries given up after every retry" }),
					retried: count.openapi({ description: "Deliveries whose first attempt failed" }),
				}),
			)
			.openapi({ description: "The hosts of callBackUrls whose deliveries fail most, over the window's tasks (at most 10)" }),
		archive: z
			.object({
				backlog: count.openapi({ description: "Settled tasks past ARCHIVE_AFTER_SECONDS not archived yet" }),
				backlogCountedUpTo: count.openapi({ description: "The backlog is looked for among this many of the oldest live tasks" }),
			})
			.openapi({ description: "Archiving tasks into R2: what is waiting (a task archives itself on its own alarm; the cron catches stragglers)" }),
		database: z
			.object({
				bytes: count.openapi({ description: "D1's size now" }),
				limitBytes: count.openapi({ description: "D1's largest database on Workers Paid (500 MB on Workers Free)" }),
			})
			.openapi({ description: "How full D1 is" }),
		recentFailures: z
			.array(
				z.object({
					taskId: z.string(),
					owner: z.string().nullable().openapi({ description: "The tenant whose key created it" }),
					status: z.enum(TASK_STATUSES),
					errorCode: z.number().int().nullable(),
					errorMessage: z.string().nullable(),
					resultSource: z.enum(["callback", "poll", "timeout"]).nullable(),
					createTime: z.number().int(),
					completeTime: z.number().int().nullable(),
				}),
			)
			.openapi({ description: "The 20 most recently created tasks of the window that failed and are not archived yet, newest first" }),
	})
	.openapi("GatewayStats");
