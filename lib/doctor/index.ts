export * from './reasons.js';
export * from './fetch-rules.js';
export { runDoctor, validateDoctorRequest, DoctorUsageError, PROBE_ORIGIN, type DoctorRequest, type DoctorReport, type DoctorStepReport } from './doctor.js';
export { DoctorNetworkError, type HttpAnswer } from './http.js';
export { renderDoctorReport } from './render.js';
