import type { Resolvers } from '../../__generated__/resolvers-types.ts';
import type { AccountDeletionService } from './account-deletion.service.ts';
import type { AccountExportService } from './account-export.service.ts';

/** Resolvers of deletion and export: `deleteAccount`, `deleteUser`, `exportMyData`, `exportUserData`. */
export function accountResolvers(services: { accountDeletion: AccountDeletionService; accountExport: AccountExportService }): Resolvers {
  const { accountDeletion, accountExport } = services;
  return {
    Query: {
      exportMyData: (_root, _args, ctx) => accountExport.exportMine(ctx),
      exportUserData: (_root, { userId }, ctx) => accountExport.exportUser(ctx, userId),
    },
    Mutation: {
      deleteAccount: (_root, { password }, ctx) => accountDeletion.deleteAccount(ctx, password),
      deleteUser: (_root, { userId }, ctx) => accountDeletion.deleteUser(ctx, userId),
    },
  };
}
