import { Migration } from '@mikro-orm/migrations';

export class Migration20261121051328_tokens_mail extends Migration {

  override name = 'Migration20261121051328_tokens_mail';

  override up(): void | Promise<void> {
    this.addSql(`create table "mail_outbox" ("id" bigserial primary key, "recipient" text not null, "subject" text not null, "template" text not null, "text_body" text not null, "html_body" text not null, "created_at" timestamptz not null default now());`);

    this.addSql(`create table "user_tokens" ("id" bigserial primary key, "user_id" bigint not null, "purpose" text not null, "token_hash" bytea not null, "payload" jsonb null, "created_at" timestamptz not null default now(), "expires_at" timestamptz not null, "used_at" timestamptz null);`);
    this.addSql(`alter table "user_tokens" add constraint "user_tokens_token_hash_unique" unique ("token_hash");`);
    this.addSql(`create index "user_tokens_user_purpose_index" on "user_tokens" ("user_id", "purpose");`);

    this.addSql(`alter table "user_tokens" add constraint "user_tokens_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`);
    this.addSql(`alter table "user_tokens" add constraint "user_tokens_purpose_check" check ("purpose" in ('EMAIL_CONFIRMATION', 'PASSWORD_RESET'));`);
  }

}
