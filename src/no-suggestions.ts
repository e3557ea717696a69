import type { ApolloServerPlugin } from '@apollo/server';

/** graphql-js's suggestion suffix: ` Did you mean "me"?`, ` Did you mean the enum value "ASC"?`. */
const SUGGESTION = / ?Did you mean(.+?)\?$/;

/**
 * Removes graphql-js's "Did you mean …?" suggestions from every error of a response, so a
 * client cannot map a non-public schema by typos (issue 10, finding 7). Apollo Server's
 * `hideSchemaDetailsFromClientErrors` strips them from validation errors only; the coercion
 * errors of variable values (`Variable "$o" got invalid value "ASCC" …; Did you mean the enum
 * value "ASC"?`, unknown input fields) carry them too. Runs in `didEncounterErrors`, which
 * Apollo Server calls with every error before it formats the response. Same pattern as
 * Apollo's `ApolloServerPluginDisableSuggestions`.
 */
export function noSuggestionsPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors }) {
          for (const error of errors) error.message = error.message.replace(SUGGESTION, '');
        },
      };
    },
  };
}
