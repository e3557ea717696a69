import { pino, type Logger } from 'pino';
import type { Config } from './config.ts';

/**
 * The service's structured logger: JSON lines on stdout (pino). Authorization headers,
 * passwords and tokens are redacted wherever they appear in a logged object.
 */
export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
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
  });
}
