import { Migration } from '@mikro-orm/migrations';

export class Migration20261121050139_profiles extends Migration {

  override name = 'Migration20261121050139_profiles';

  override up(): void | Promise<void> {
    this.addSql(`create table "profile_social" ("user_id" bigint not null, "follow_requires_confirmation" boolean not null default false, "bio" varchar(500) null, primary key ("user_id"));`);

    this.addSql(`create table "profile_mail" ("user_id" bigint not null, "email" text null, "email_confirmed_at" timestamptz null, primary key ("user_id"));`);
    this.addSql(`alter table "profile_mail" add constraint "profile_mail_email_unique" unique ("email");`);

    this.addSql(`create table "profile_account" ("user_id" bigint not null, "first_name" varchar(150) null, "last_name" varchar(150) null, "email" text null, "is_active" boolean not null default true, "is_staff" boolean not null default false, "is_superuser" boolean not null default false, "last_login" timestamptz null, "date_joined" timestamptz null, primary key ("user_id"));`);

    this.addSql(`alter table "profile_social" add constraint "profile_social_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "profile_mail" add constraint "profile_mail_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "profile_account" add constraint "profile_account_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
  }

}
