// @ts-check
import { DEFAULT_KEY, DEFAULT_URL } from './args.mjs';

export const EXIT = /** @type {const} */ ({ ok: 0, failed: 1, usage: 2, stillPending: 3, interrupted: 130 });

export const HELP = `lyrics-gateway: create lyrics through a lyrics-gateway and read them back.

Usage:
  lyrics-gateway "a prompt"          create a task and wait for its lyrics (same as create)
  lyrics-gateway create <prompt> [--callback-url URL] [--no-wait] [--timeout SECONDS]
  lyrics-gateway get <taskId> [--wait] [--timeout SECONDS]
  lyrics-gateway list [--status STATUS] [--limit N] [--cursor CURSOR] [--owner TENANT]
  lyrics-gateway usage               today's creates and daily quota (an admin key: every tenant's)
  lyrics-gateway delete <taskId>     delete a task everywhere the gateway keeps it (no undo)

Options:
  --url URL            the gateway; else $LYRICS_GATEWAY_URL, else ${DEFAULT_URL} (npm start)
  --key KEY            its API key; else $LYRICS_GATEWAY_API_KEY, else ${DEFAULT_KEY} (npm start).
                       Prefer the variable: other users can see flags in the process list.
  --json               print the gateway's JSON answer instead of text
  --callback-url URL   your own webhook for the final result (create)
  --no-wait            print the taskId and return at once (create)
  --wait               wait while the task is PENDING (get)
  --timeout SECONDS    how long to wait for the result (default 300)
  --status STATUS      only tasks with this status (list): PENDING, SUCCESS,
                       GENERATE_LYRICS_FAILED, SENSITIVE_WORD_ERROR, CREATE_TASK_FAILED, CALLBACK_EXCEPTION
  --limit N            tasks per page, 1-100 (list; default 20)
  --cursor CURSOR      the next page, as the previous page printed it (list)
  --owner TENANT       only that tenant's tasks (list; admin keys, or your own tenant's name)
  -h, --help           this text

Exit status: ${EXIT.ok} done; ${EXIT.failed} the gateway refused or the task failed (its message goes to stderr);
${EXIT.usage} bad usage; ${EXIT.stillPending} still PENDING when --timeout ran out (the task goes on: get <taskId> --wait).

In the repository: npm run lyrics -- "a song about rain"
`;
