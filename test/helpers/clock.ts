import type { Clock } from '../../src/clock.ts';

/** A clock that runs with real time, moved ahead by hand (token expiry, TOTP steps, fresh logins). */
export class ManualClock implements Clock {
  private offset = 0;
  now() {
    return new Date(Date.now() + this.offset);
  }
  /** Moves the clock `ms` milliseconds ahead. */
  advance(ms: number) {
    this.offset += ms;
  }
}
