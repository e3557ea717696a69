import { Migration } from '@mikro-orm/migrations';

export class Migration20261121044002_init extends Migration {

  override name = 'Migration20261121044002_init';

  override up(): void | Promise<void> {
    this.addSql(`create table "login_rate_limits" ("key" varchar(255) not null, "points" int not null default 0, "expire" bigint null, primary key ("key"));`);

    this.addSql(`create table "users" ("id" bigserial primary key, "identifier" text not null, "identifier_key" text not null, "password" text not null, "created_at" timestamptz not null default now());`);
    this.addSql(`alter table "users" add constraint "users_identifier_key_unique" unique ("identifier_key");`);

    this.addSql(`create table "sessions" ("id" bigserial primary key, "user_id" bigint not null, "token_hash" bytea not null, "created_at" timestamptz not null default now(), "last_seen_at" timestamptz not null, "expires_at" timestamptz not null);`);
    this.addSql(`create index "sessions_user_id_index" on "sessions" ("user_id");`);
    this.addSql(`alter table "sessions" add constraint "sessions_token_hash_unique" unique ("token_hash");`);

    this.addSql(`alter table "sessions" add constraint "sessions_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "sessions" drop constraint "sessions_user_id_foreign";`);

    this.addSql(`drop table if exists "login_rate_limits" cascade;`);
    this.addSql(`drop table if exists "users" cascade;`);
    this.addSql(`drop table if exists "sessions" cascade;`);
  }

}
