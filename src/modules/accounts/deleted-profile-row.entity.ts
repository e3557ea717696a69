import { defineEntity, p } from '@mikro-orm/core';

/**
 * `deleted_profile_rows`: what account deletion keeps of the rows of profiles declared
 * `@profile(onDelete: ANONYMIZE)`, for statistics — the profile's name, its non-`@private`,
 * non-`@unique` values as JSON (`{ field: value }`), and the day of deletion. No user id, no
 * identifier: nothing links a row to the account it came from.
 */
export const DeletedProfileRow = defineEntity({
  name: 'DeletedProfileRow',
  tableName: 'deleted_profile_rows',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    profile: p.text().index('deleted_profile_rows_profile_index'),
    data: p.json(),
    deletedOn: p.date(),
  },
});
