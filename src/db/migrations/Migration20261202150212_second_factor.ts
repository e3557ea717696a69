import { Migration } from '@mikro-orm/migrations';

export class Migration20261202150212_second_factor extends Migration {

  override name = 'Migration20261202150212_second_factor';

  override up(): void | Promise<void> {
    this.addSql(`create table "totp_credentials" ("id" bigserial primary key, "user_id" bigint not null, "secret" text not null, "confirmed_at" timestamptz null, "last_used_step" bigint null, "created_at" timestamptz not null);`);
    this.addSql(`alter table "totp_credentials" add constraint "totp_credentials_user_id_unique" unique ("user_id");`);

    this.addSql(`create table "recovery_codes" ("id" bigserial primary key, "user_id" bigint not null, "code_hash" bytea not null, "used_at" timestamptz null, "created_at" timestamptz not null);`);
    this.addSql(`create index "recovery_codes_user_id_index" on "recovery_codes" ("user_id");`);

    this.addSql(`create table "login_challenges" ("id" bigserial primary key, "user_id" bigint not null, "token_hash" bytea not null, "client_address" text not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "used_at" timestamptz null);`);
    this.addSql(`create index "login_challenges_user_id_index" on "login_challenges" ("user_id");`);
    this.addSql(`alter table "login_challenges" add constraint "login_challenges_token_hash_unique" unique ("token_hash");`);

    this.addSql(`alter table "sessions" add "assurance_level" text not null default 'aal1';`);

    this.addSql(`alter table "totp_credentials" add constraint "totp_credentials_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`);

    this.addSql(`alter table "recovery_codes" add constraint "recovery_codes_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`);

    this.addSql(`alter table "login_challenges" add constraint "login_challenges_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "sessions" drop column "assurance_level";`);
  }

}
