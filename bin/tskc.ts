#!/usr/bin/env node
// The `tskc` executable (package.json "bin"): runs the command line and exits with its status.
import { runCli } from './cli.js';

process.exitCode = await runCli(process.argv.slice(2));
