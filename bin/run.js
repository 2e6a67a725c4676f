#!/usr/bin/env node
import {execute} from '@oclif/core'

import {redactDebugOutput} from '../dist/redact/redacting-debug.js'

// oclif prints the command line under DEBUG before any command loads: a --server URL with
// credentials in it must come out redacted there too.
redactDebugOutput()
await execute({dir: import.meta.url})
