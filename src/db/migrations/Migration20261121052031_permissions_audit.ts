import { Migration } from '@mikro-orm/migrations';

export class Migration20261121052031_permissions_audit extends Migration {

  override name = 'Migration20261121052031_permissions_audit';

  override up(): void | Promise<void> {
    this.addSql(`create table "audit_events" ("id" bigserial primary key, "type" varchar(64) not null, "actor_id" bigint null, "subject_id" bigint null, "client_address" varchar(64) null, "data" jsonb not null, "created_at" timestamptz not null default now());`);
    this.addSql(`create index "audit_events_type_index" on "audit_events" ("type");`);
    this.addSql(`create index "audit_events_subject_id_index" on "audit_events" ("subject_id");`);

    this.addSql(`create table "groups" ("id" bigserial primary key, "name" varchar(150) not null);`);
    this.addSql(`alter table "groups" add constraint "groups_name_unique" unique ("name");`);

    this.addSql(`create table "permissions" ("id" bigserial primary key, "app_label" varchar(100) not null, "codename" varchar(100) not null, "name" varchar(255) not null);`);
    this.addSql(`alter table "permissions" add constraint "permissions_app_label_codename_unique" unique ("app_label", "codename");`);

    this.addSql(`create table "group_permissions" ("group_id" bigint not null, "permission_id" bigint not null, primary key ("group_id", "permission_id"));`);

    this.addSql(`create table "user_groups" ("user_id" bigint not null, "group_id" bigint not null, primary key ("user_id", "group_id"));`);
    this.addSql(`create index "user_groups_group_id_index" on "user_groups" ("group_id");`);

    this.addSql(`create table "user_permissions" ("user_id" bigint not null, "permission_id" bigint not null, primary key ("user_id", "permission_id"));`);
    this.addSql(`create index "user_permissions_permission_id_index" on "user_permissions" ("permission_id");`);

    this.addSql(`alter table "group_permissions" add constraint "group_permissions_group_id_foreign" foreign key ("group_id") references "groups" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "group_permissions" add constraint "group_permissions_permission_id_foreign" foreign key ("permission_id") references "permissions" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "user_groups" add constraint "user_groups_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "user_groups" add constraint "user_groups_group_id_foreign" foreign key ("group_id") references "groups" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "user_permissions" add constraint "user_permissions_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "user_permissions" add constraint "user_permissions_permission_id_foreign" foreign key ("permission_id") references "permissions" ("id") on update cascade on delete cascade;`);

    // Django's default permissions of the auth app, plus the audit trail's.
    this.addSql(`insert into "permissions" ("app_label", "codename", "name") values
      ('auth', 'add_permission', 'Can add permission'), ('auth', 'change_permission', 'Can change permission'),
      ('auth', 'delete_permission', 'Can delete permission'), ('auth', 'view_permission', 'Can view permission'),
      ('auth', 'add_group', 'Can add group'), ('auth', 'change_group', 'Can change group'),
      ('auth', 'delete_group', 'Can delete group'), ('auth', 'view_group', 'Can view group'),
      ('auth', 'add_user', 'Can add user'), ('auth', 'change_user', 'Can change user'),
      ('auth', 'delete_user', 'Can delete user'), ('auth', 'view_user', 'Can view user'),
      ('audit', 'view_auditevent', 'Can view audit event')
      on conflict do nothing;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "group_permissions" drop constraint "group_permissions_group_id_foreign";`);
    this.addSql(`alter table "user_groups" drop constraint "user_groups_group_id_foreign";`);
    this.addSql(`alter table "group_permissions" drop constraint "group_permissions_permission_id_foreign";`);
    this.addSql(`alter table "user_permissions" drop constraint "user_permissions_permission_id_foreign";`);
  }

}
