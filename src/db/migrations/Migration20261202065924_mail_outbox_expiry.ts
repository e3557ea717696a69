import { Migration } from '@mikro-orm/migrations';

export class Migration20261202065924_mail_outbox_expiry extends Migration {

  override name = 'Migration20261202065924_mail_outbox_expiry';

  override up(): void | Promise<void> {
    // Rows stored before this migration carry no token expiry: they get the longest default
    // token lifetime (24 h, EMAIL_CONFIRMATION_TTL_SECONDS) from when they were stored.
    this.addSql(`alter table "mail_outbox" add "expires_at" timestamptz null;`);
    this.addSql(`update "mail_outbox" set "expires_at" = "created_at" + interval '1 day';`);
    this.addSql(`alter table "mail_outbox" alter column "expires_at" set not null;`);
    this.addSql(`create index "mail_outbox_expires_at_index" on "mail_outbox" ("expires_at");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "mail_outbox_expires_at_index";`);
    this.addSql(`alter table "mail_outbox" drop column "expires_at";`);
  }

}
