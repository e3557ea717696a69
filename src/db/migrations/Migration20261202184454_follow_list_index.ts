import { Migration } from '@mikro-orm/migrations';

export class Migration20261202184454_follow_list_index extends Migration {

  override name = 'Migration20261202184454_follow_list_index';

  override up(): void | Promise<void> {
    this.addSql(`drop index "follows_followee_status_index";`);
    this.addSql(`drop index "follows_follower_status_index";`);
    this.addSql(`create index "follows_followee_list_index" on "follows" ("followee_id", "status", "confirmed_at", "id");`);
    this.addSql(`create index "follows_follower_list_index" on "follows" ("follower_id", "status", "confirmed_at", "id");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "follows_followee_list_index";`);
    this.addSql(`drop index "follows_follower_list_index";`);
    this.addSql(`create index "follows_followee_status_index" on "follows" ("followee_id", "status");`);
    this.addSql(`create index "follows_follower_status_index" on "follows" ("follower_id", "status");`);
  }

}
