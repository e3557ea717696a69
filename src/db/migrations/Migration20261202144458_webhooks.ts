import { Migration } from '@mikro-orm/migrations';

export class Migration20261202144458_webhooks extends Migration {

  override name = 'Migration20261202144458_webhooks';

  override up(): void | Promise<void> {
    this.addSql(`create table "webhooks" ("id" bigserial primary key, "url" text not null, "events" jsonb not null, "secret" text not null, "created_by" bigint null, "created_at" timestamptz not null);`);

    this.addSql(`create table "webhook_deliveries" ("id" bigserial primary key, "webhook_id" bigint not null, "event_id" bigint not null, "event_type" text not null, "payload" jsonb not null, "status" text not null, "attempts" int not null default 0, "next_attempt_at" timestamptz null, "last_attempt_at" timestamptz null, "last_status_code" int null, "last_error" text null, "delivered_at" timestamptz null, "created_at" timestamptz not null);`);
    this.addSql(`create index "webhook_deliveries_webhook_id_index" on "webhook_deliveries" ("webhook_id");`);
    this.addSql(`create index "webhook_deliveries_due_index" on "webhook_deliveries" ("status", "next_attempt_at");`);

    this.addSql(`alter table "webhook_deliveries" add constraint "webhook_deliveries_webhook_id_foreign" foreign key ("webhook_id") references "webhooks" ("id") on delete cascade;`);
    this.addSql(`alter table "webhook_deliveries" add constraint "webhook_deliveries_status_check" check ("status" in ('pending', 'delivered', 'failed'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "webhook_deliveries" drop constraint "webhook_deliveries_webhook_id_foreign";`);
  }

}
