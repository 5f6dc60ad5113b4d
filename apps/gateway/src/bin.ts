#!/usr/bin/env node
import { run } from "./cli/index.js"
import { runMain } from "./cli/Root.js"

runMain(run(process.argv))
