/** The context of the library's own log lines (services log under their class names). */
export const LOG_CONTEXT = 'IdentityCors';
