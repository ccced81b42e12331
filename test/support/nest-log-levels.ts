import { Logger } from '@nestjs/common';

// Nest's default logger prints debug lines, and services built outside an app (unit tests) log through it:
// npm test would print every routine CORS denial. Keep them for when they are asked for (LOG_LEVEL=debug);
// tests that assert on logs pass their own logger, which this does not filter.
if (process.env.LOG_LEVEL !== 'debug' && process.env.LOG_LEVEL !== 'verbose') Logger.overrideLogger(['fatal', 'error', 'warn', 'log']);
