import { describe, expect, it } from 'vitest';
import { ProfileDefinitionError } from './model.ts';
import { parseProfileFile } from './parse.ts';

const FILE = '/profiles/pet.graphql';

/** The error `parseProfileFile` raises for `sdl` (fails the test when it accepts it). */
function refusal(sdl: string): ProfileDefinitionError {
  try {
    parseProfileFile(FILE, sdl);
  } catch (error) {
    expect(error).toBeInstanceOf(ProfileDefinitionError);
    return error as ProfileDefinitionError;
  }
  throw new Error('expected the profile to be refused');
}

const pet = (fields: string, profileArgs = '') => `type PetProfile @profile(name: "pet"${profileArgs}) {\n${fields}\n}`;

describe('parseProfileFile', () => {
  it('derives the table, columns, kinds, defaults and rules from the SDL', () => {
    const [profile, ...rest] = parseProfileFile(
      FILE,
      `"Pets." type PetProfile @profile(name: "pet", precedence: 40) @identifier(minLength: 3, message: "too short") {
        "Its name." petName: String @length(max: 60) @unique
        species: Species! @default(value: "CAT")
        birthDate: Date @private
        chipUrl: URL @readonly
      }
      enum Species { CAT DOG }`,
    );
    expect(rest).toEqual([]);
    expect(profile).toMatchObject({
      name: 'pet',
      typeName: 'PetProfile',
      table: 'profile_pet',
      file: FILE,
      autoCreate: true,
      precedence: 40,
      description: 'Pets.',
    });
    expect(profile!.identifierRules).toEqual([{ format: undefined, pattern: undefined, minLength: 3, maxLength: undefined, message: 'too short' }]);
    expect(profile!.fields.map((f) => [f.name, f.column, f.kind, f.nullable, f.defaultValue])).toEqual([
      ['petName', 'pet_name', 'string', true, undefined],
      ['species', 'species', 'enum', false, 'CAT'],
      ['birthDate', 'birth_date', 'date', true, undefined],
      ['chipUrl', 'chip_url', 'url', true, undefined],
    ]);
    expect(profile!.fields[0]).toMatchObject({ maxLength: 60, unique: true, description: 'Its name.' });
    expect(profile!.fields[1]!.enumValues).toEqual(['CAT', 'DOG']);
    expect(profile!.fields[2]!.private).toBe(true);
    expect(profile!.fields[3]!.readonly).toBe(true);
  });

  it('refuses an unsupported field type, naming the file and the field', () => {
    const error = refusal(pet('  owner: User'));
    expect(error.file).toBe(FILE);
    expect(error.message).toContain(FILE);
    expect(error.message).toContain('pet.owner');
    expect(error.message).toMatch(/unsupported type User/);
  });

  it('refuses list types, naming the file and the field', () => {
    for (const type of ['[String]', '[String!]!']) {
      const error = refusal(pet(`  tags: ${type}`));
      expect(error.message).toContain(FILE);
      expect(error.message).toContain('pet.tags');
      expect(error.message).toMatch(/list types are not supported/);
    }
  });

  it('refuses a non-null field without @default in an auto-created profile, and accepts it with autoCreate: false', () => {
    const error = refusal(pet('  license: String!'));
    expect(error.message).toContain(FILE);
    expect(error.message).toContain('pet.license');
    expect(error.message).toMatch(/non-null without @default/);

    const [manual] = parseProfileFile(FILE, pet('  license: String!', ', autoCreate: false'));
    expect(manual!.autoCreate).toBe(false);
    expect(manual!.fields[0]).toMatchObject({ name: 'license', nullable: false, defaultValue: undefined });
  });

  it('refuses a @default that does not fit the field type, naming the file and the field', () => {
    const cases: [string, RegExp][] = [
      ['  age: Int @default(value: "old")', /pet\.age: @default: expected a 32-bit integer/],
      ['  weight: Float @default(value: "heavy")', /pet\.weight: @default: expected a number/],
      ['  indoor: Boolean! @default(value: "yes")', /pet\.indoor: @default: expected true or false/],
      ['  vet: EmailAddress @default(value: "not an address")', /pet\.vet: @default: expected an email address/],
      ['  site: URL @default(value: "relative/path")', /pet\.site: @default: expected an absolute URL/],
      ['  born: Date @default(value: "yesterday")', /pet\.born: @default: expected a date/],
      ['  nick: String @length(max: 3) @default(value: "Rexy")', /pet\.nick: @default: must be at most 3 characters/],
      ['  kind: Species! @default(value: "COW")\n}\nenum Species { CAT DOG', /pet\.kind: @default: expected one of CAT, DOG/],
      ['  kind: Species! @default(value: null)\n}\nenum Species { CAT DOG', /pet\.kind: @default: a value is required/],
    ];
    for (const [fields, message] of cases) {
      const error = refusal(pet(fields));
      expect(error.message).toContain(FILE);
      expect(error.message).toMatch(message);
    }
  });

  it('refuses other malformed definitions with a message naming the file', () => {
    const cases: [string, RegExp][] = [
      ['type PetProfile @profile(name: "Pet") { a: String }', /@profile\(name:\) of PetProfile must be a camelCase name/],
      ['type PetProfile @profile(name: "pet", precedence: 1.5) { a: String }', /precedence:\) of "pet" must be an integer/],
      ['type PetProfile @profile(name: "pet") { a: String }\ntype Other { b: String }', /only @profile object types and the enums/],
      ['type PetProfile @profile(name: "pet") { a: String', /invalid SDL/],
      [pet('  userId: String'), /pet\.userId: "userId" is reserved/],
      [pet('  age: Int @length(max: 3)'), /pet\.age: @length\(max:\) needs a String field/],
      [pet('  tag: String @unique @default(value: "x")'), /pet\.tag: a @unique field cannot have a @default/],
      [pet('  Name: String'), /pet\.Name: field names must be camelCase/],
      [pet('  a: String', ') @identifier(format: PHONE'), /@identifier\(format:\) of "pet" must be EMAIL or URL/],
      [pet('  a: String', ') @identifier(pattern: "(["'), /@identifier\(pattern:\) of "pet" is not a valid regular expression/],
      [pet('  a: String', ') @identifier(minLength: 9, maxLength: 3'), /@identifier of "pet": minLength is greater than maxLength/],
    ];
    for (const [sdl, message] of cases) {
      const error = refusal(sdl);
      expect(error.message.startsWith(`${FILE}: `)).toBe(true);
      expect(error.message).toMatch(message);
    }
  });

  it('refuses two fields that would share a column', () => {
    expect(refusal(pet('aBC: String\n  aBc: String')).message).toMatch(/pet\.aBC and pet\.aBc .*"a_bc"/);
  });

  it('refuses unknown directives and arguments of the wrong type, as graphql-js validates SDL', () => {
    expect(refusal(pet('petName: String @defualt(value: "x")')).message).toContain('defualt');
    expect(refusal(pet('petName: String', ', autoCreate: "no"')).message).toMatch(/autoCreate|Boolean/);
  });
});
