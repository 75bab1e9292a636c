#!/usr/bin/env node
// Entry point of the `glacis` command; the code is compiled to dist/ by `npm run build`.
import { main } from '../dist/src/cli/main.js';

await main(process.argv);
