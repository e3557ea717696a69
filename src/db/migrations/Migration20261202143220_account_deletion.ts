import { Migration } from '@mikro-orm/migrations';

export class Migration20261202143220_account_deletion extends Migration {

  override name = 'Migration20261202143220_account_deletion';

  override up(): void | Promise<void> {
    this.addSql(`create table "deleted_profile_rows" ("id" bigserial primary key, "profile" text not null, "data" jsonb not null, "deleted_on" date not null);`);
    this.addSql(`create index "deleted_profile_rows_profile_index" on "deleted_profile_rows" ("profile");`);
  }

}
