import type { DoctorReport } from './doctor.js';

/** The report as text for a terminal: numbered steps, what was sent and received, each check, the verdict. */
export function renderDoctorReport(report: DoctorReport): string {
  const lines: string[] = [];
  for (const step of report.steps) {
    lines.push(`${step.index}. [${step.step}] ${step.title}`);
    if (step.sent) {
      lines.push(`   > ${step.sent.method} ${step.sent.url}`);
      for (const [name, value] of step.sent.headers) lines.push(`   > ${name}: ${value}`);
    }
    if (step.received) {
      lines.push(`   < ${step.received.status} ${step.received.statusText}`.trimEnd());
      for (const [name, value] of step.received.headers) {
        if (isInteresting(name)) lines.push(`   < ${name}: ${value}`);
      }
    }
    for (const check of step.checks) lines.push(`   ${check.ok ? 'ok  ' : 'FAIL'} ${check.text}`);
    for (const note of step.notes) lines.push(`   ${note}`);
  }
  if (report.warnings.length > 0) {
    lines.push('', 'Warnings (the browser does not complain, a reviewer should):');
    for (const warning of report.warnings) lines.push(`  - [${warning.code}, step ${warning.step}] ${warning.message}`);
  }
  lines.push('');
  if (report.verdict === 'allowed') {
    lines.push('Verdict: the browser allows this.');
  } else {
    const blocked = report.blocked!;
    lines.push(`Verdict: the browser blocks this, at step ${blocked.step} (${blocked.at}), because ${blocked.because} [${blocked.reason}].`);
    lines.push(`Fix: ${blocked.fix}.`);
  }
  return `${lines.join('\n')}\n`;
}

// Headers a CORS reader needs to see; the rest of a response (Date, ETag, ...) is noise here.
function isInteresting(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith('access-control-') || lower === 'vary' || lower === 'location' || lower === 'content-type';
}
