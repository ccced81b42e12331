import type { LoggerService } from '@nestjs/common';

/** Records what is logged, by level, so tests can assert on denials and warnings. */
export class CaptureLogger implements LoggerService {
  readonly lines: Array<{ level: string; message: string }> = [];
  private push(level: string, message: unknown) {
    this.lines.push({ level, message: String(message) });
  }
  log(message: unknown) { this.push('log', message); }
  error(message: unknown) { this.push('error', message); }
  warn(message: unknown) { this.push('warn', message); }
  debug(message: unknown) { this.push('debug', message); }
  verbose(message: unknown) { this.push('verbose', message); }
  fatal(message: unknown) { this.push('fatal', message); }
  at(level: string): string[] {
    return this.lines.filter((l) => l.level === level).map((l) => l.message);
  }
}
