import { Migration } from '@mikro-orm/migrations';

export class Migration20261202143000_session_devices extends Migration {

  override name = 'Migration20261202143000_session_devices';

  override up(): void | Promise<void> {
    // What a user sees of each of their sessions ("devices"): the client's user agent and
    // address when the session was issued. Sessions issued before this migration have neither.
    this.addSql(`alter table "sessions" add "user_agent" text null, add "client_address" text null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "sessions" drop column "user_agent", drop column "client_address";`);
  }

}
