import { Migration } from '@mikro-orm/migrations';

export class Migration20261202065817_device_tokens extends Migration {

  override name = 'Migration20261202065817_device_tokens';

  override up(): void | Promise<void> {
    this.addSql(`create table "device_tokens" ("id" bigserial primary key, "user_id" bigint not null, "token_hash" bytea not null, "created_at" timestamptz not null default now(), "last_used_at" timestamptz not null, "expires_at" timestamptz not null);`);
    this.addSql(`create index "device_tokens_user_id_index" on "device_tokens" ("user_id");`);
    this.addSql(`alter table "device_tokens" add constraint "device_tokens_token_hash_unique" unique ("token_hash");`);

    this.addSql(`alter table "device_tokens" add constraint "device_tokens_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`);
  }

}
