import { EntitySchema } from '@mikro-orm/core';
import type { FieldKind, ProfileDefinition, ProfileField } from './model.ts';

const columnTypes: Record<FieldKind, string> = {
  string: 'text',
  email: 'text',
  url: 'text',
  enum: 'text',
  int: 'integer',
  float: 'double',
  boolean: 'boolean',
  datetime: 'datetime',
  date: 'date',
  json: 'json',
};

/**
 * The MikroORM entity of a profile: table `profile_<name>`, primary key `user_id` referencing
 * `users(id)` with cascade delete, one column per field (enums as text with a check
 * constraint, `@unique` as a unique constraint, `@default` as a column default). Built at
 * start-up from the SDL; never hand-written. The migrator diffs these like any entity.
 * `userEntity` is the entity of `users` (handed in by the composition root: the engine knows
 * no domain entity).
 */
export function profileEntity(profile: ProfileDefinition, userEntity: object): EntitySchema {
  const properties: Record<string, object> = {
    user: { kind: '1:1', entity: () => userEntity, primary: true, owner: true, deleteRule: 'cascade', fieldName: 'user_id' },
  };
  for (const field of profile.fields) properties[field.name] = propertyOf(field);
  return new EntitySchema({ name: profile.typeName, tableName: profile.table, properties } as never);
}

function propertyOf(field: ProfileField): object {
  const property: Record<string, unknown> = {
    type: columnTypes[field.kind],
    fieldName: field.column,
    nullable: field.nullable,
  };
  if (field.kind === 'enum') Object.assign(property, { enum: true, items: field.enumValues });
  if (field.maxLength !== undefined) Object.assign(property, { type: 'string', length: field.maxLength });
  if (field.unique) property.unique = true;
  if (field.defaultValue !== undefined && field.defaultValue !== null) {
    if (field.kind === 'json') property.defaultRaw = `'${JSON.stringify(field.defaultValue).replace(/'/g, "''")}'::jsonb`;
    else property.default = field.defaultValue;
  }
  return property;
}
