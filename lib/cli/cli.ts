/** The `nest-identity-cors` command line: subcommands dispatched here, testable in-process through `main`. */
import { parseArgs } from 'node:util';
import { DoctorUsageError, runDoctor } from '../doctor/doctor.js';
import { DoctorNetworkError } from '../doctor/http.js';
import { renderDoctorReport } from '../doctor/render.js';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Exit codes: the browser allows the request, blocks it, or the doctor could not ask (usage or network). */
export const EXIT = { allowed: 0, blocked: 1, error: 2 } as const;

const USAGE = `Usage: nest-identity-cors doctor <url> --origin <origin> [--method M] [--header 'Name[: value]']... [--credentials] [--json] [--timeout ms]

Does what a browser's fetch() does for <url> called from a page at <origin>, against any server, and says
step by step whether the browser allows it, or where and why it blocks it, with a fix.
  --origin       the page's origin, e.g. http://localhost:4200
  --method       the request's method (default GET)
  --header       a header the page's script sets; repeatable; without ': value' it is sent empty
  --credentials  fetch(..., { credentials: 'include' })
  --json         the report as JSON
  --timeout      milliseconds to wait for each answer (default 10000)
Exit code: 0 allowed, 1 blocked, 2 usage or network error.
`;

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.stdout(USAGE);
    return command === undefined ? EXIT.error : EXIT.allowed;
  }
  if (command !== 'doctor') {
    io.stderr(`Unknown command '${command}': the command is doctor.\n\n${USAGE}`);
    return EXIT.error;
  }
  return doctor(rest, io);
}

async function doctor(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        origin: { type: 'string' },
        method: { type: 'string' },
        header: { type: 'string', multiple: true },
        credentials: { type: 'boolean' },
        json: { type: 'boolean' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    io.stderr(`${(error as Error).message}\n\n${USAGE}`);
    return EXIT.error;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(USAGE);
    return EXIT.allowed;
  }
  const usage = (message: string) => {
    io.stderr(`${message}\n\n${USAGE}`);
    return EXIT.error;
  };
  if (positionals.length !== 1) return usage(positionals.length === 0 ? 'Give the URL to call, e.g. nest-identity-cors doctor http://localhost:5000/.well-known/openid-configuration --origin http://localhost:4200' : `One URL only; got ${positionals.map((p) => `'${p}'`).join(', ')}`);
  if (values.origin === undefined) return usage('Give the page\'s origin: --origin http://localhost:4200');
  const timeoutMs = values.timeout === undefined ? 10_000 : Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) return usage(`--timeout '${values.timeout}' is not a positive whole number of milliseconds: e.g. --timeout 5000`);
  const headers = (values.header ?? []).map((header): [string, string] => {
    const colon = header.indexOf(':');
    return colon === -1 ? [header.trim(), ''] : [header.slice(0, colon).trim(), header.slice(colon + 1).trim()];
  });
  try {
    const report = await runDoctor({
      url: positionals[0]!,
      origin: values.origin,
      ...(values.method === undefined ? {} : { method: values.method }),
      headers,
      credentials: values.credentials ?? false,
      timeoutMs,
    });
    io.stdout(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderDoctorReport(report));
    return report.verdict === 'allowed' ? EXIT.allowed : EXIT.blocked;
  } catch (error) {
    if (error instanceof DoctorUsageError) return usage(error.message);
    if (error instanceof DoctorNetworkError) {
      // with --json, stdout always holds one JSON document, so that CI can parse it whatever happened
      if (values.json) io.stdout(`${JSON.stringify({ error: 'network', message: error.message })}\n`);
      else io.stderr(`Network error, no answer to check (a browser's fetch would fail too, not for CORS): ${error.message}\n`);
      return EXIT.error;
    }
    throw error;
  }
}
