import { Migration } from '@mikro-orm/migrations';

export class Migration20261121051002_follows extends Migration {

  override name = 'Migration20261121051002_follows';

  override up(): void | Promise<void> {
    this.addSql(`create table "follows" ("id" bigserial primary key, "follower_id" bigint not null, "followee_id" bigint not null, "status" text not null, "created_at" timestamptz not null default now(), "confirmed_at" timestamptz null);`);
    this.addSql(`create index "follows_followee_status_index" on "follows" ("followee_id", "status");`);
    this.addSql(`create index "follows_follower_status_index" on "follows" ("follower_id", "status");`);
    this.addSql(`alter table "follows" add constraint "follows_pair_unique" unique ("follower_id", "followee_id");`);

    this.addSql(`alter table "follows" add constraint "follows_follower_id_foreign" foreign key ("follower_id") references "users" ("id") on delete cascade;`);
    this.addSql(`alter table "follows" add constraint "follows_followee_id_foreign" foreign key ("followee_id") references "users" ("id") on delete cascade;`);
    this.addSql(`alter table "follows" add constraint "follows_no_self_follow" check (follower_id <> followee_id);`);
    this.addSql(`alter table "follows" add constraint "follows_status_check" check ("status" in ('PENDING', 'CONFIRMED'));`);
  }

}
