import { pino, type Logger } from 'pino';
import type { Config } from './config.ts';

/**
 * The service's structured logger: JSON lines on stdout (or stderr, `fd` 2, for CLI
 * commands whose own output is on stdout) via pino. Authorization headers, passwords and
 * tokens are redacted wherever they appear in a logged object.
 */
export function createLogger(config: Pick<Config, 'logLevel'>, fd: 1 | 2 = 1): Logger {
  const options = {
    level: config.logLevel,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        '*.password',
        '*.newPassword',
        '*.currentPassword',
        '*.token',
        'variables.*.password',
        'variables.password',
        'variables.newPassword',
        'variables.currentPassword',
      ],
      censor: '[redacted]',
    },
  };
  return pino(options, pino.destination({ fd, sync: true }));
}
