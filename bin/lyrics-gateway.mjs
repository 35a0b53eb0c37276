#!/usr/bin/env node
// @ts-check
// The lyrics-gateway command (package.json "bin"; `npm run lyrics -- …` in the repository).

import { main } from '../cli/main.mjs';

process.exitCode = await main(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr });
